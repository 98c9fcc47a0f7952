"""One command traced end to end: the API request, the Temporal client's update, the workflow handling it, the
append activity and the SQL of the append — one trace, each span the child of the one before it."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client

from domain.actors import Actor, Role
from eventstore.store import EventStore
from pacte import tokens
from pacte.app import create_app
from pacte.runtime import build_worker
from pacte.service.facade import Pacte
from pacte.settings import Settings
from pacte.tracing import configure_tracing, temporal_interceptors
from tests.sealing import CONVERTER

pytestmark = pytest.mark.integration


async def test_one_command_is_one_trace_from_the_request_to_the_sql(
    temporal_address: str, store: EventStore, tmp_path: Path
) -> None:
    exporter = InMemorySpanExporter()
    assert configure_tracing(Settings(), exporter)
    try:
        await _trace_one_command(exporter, temporal_address, store, tmp_path)
    finally:
        exporter.shutdown()  # the provider is the process's: the rest of the run records nothing more


async def _trace_one_command(
    exporter: InMemorySpanExporter, temporal_address: str, store: EventStore, tmp_path: Path
) -> None:
    client = await Client.connect(temporal_address, data_converter=CONVERTER, interceptors=temporal_interceptors())
    path = tmp_path / "tokens.json"
    token, _ = tokens.add(path, Actor(role=Role.PREFET, identity="prefecture-cantal", scope=("15",)))
    settings = Settings(tokens_file=path, task_queue=f"traced-{uuid.uuid4().hex[:8]}")
    app = create_app(settings, service=Pacte(client=client, store=store, settings=settings))
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        build_worker(client, store, settings.task_queue),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://pacte", headers=headers) as http,
    ):
        proposed = await http.post("/contracts", json={"territory": "D15", "annual_ceiling": 10_000_000})
        assert proposed.status_code == 201, proposed.text
        exporter.clear()  # the command traced: one on a contract whose workflow runs already
        answer = await http.post("/contracts/cls-d15/termination", json={"reason": "essai de trace"})
    assert answer.status_code == 200, answer.text

    spans = {span.name: span for span in exporter.get_finished_spans()}
    request = spans["POST /contracts/{contract_id}/termination"]
    update = spans["StartWorkflowUpdate:execute"]
    handled = spans["HandleUpdate:execute"]
    started, ran, sql = spans["StartActivity:append_events"], spans["RunActivity:append_events"], spans["pacte_append"]
    # The request's trace: the API request, then the Temporal client's update call under it.
    assert update.parent is not None and update.parent.span_id == request.context.span_id
    assert update.context.trace_id == request.context.trace_id
    # Temporal's interceptor links the update's handling to the caller's span (a link, not a parent: the workflow
    # outlives any one request and keeps its own trace), and the append runs under the workflow's trace.
    assert any(link.context.span_id == update.context.span_id for link in handled.links)
    assert ran.parent is not None and ran.parent.span_id == started.context.span_id
    assert sql.parent is not None and sql.parent.span_id == ran.context.span_id
    assert len({s.context.trace_id for s in (handled, started, ran, sql)}) == 1
    assert sql.attributes is not None and sql.attributes["db.system"] == "postgresql"


def test_log_lines_carry_the_trace_id() -> None:
    from opentelemetry import trace

    from pacte.tracing import add_trace_ids

    assert configure_tracing(Settings(), InMemorySpanExporter())
    assert "trace_id" not in add_trace_ids(None, "info", {"event": "outside any span"})
    with trace.get_tracer("test").start_as_current_span("a command") as span:
        line = add_trace_ids(None, "info", {"event": "inside"})
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
