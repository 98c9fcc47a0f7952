"""Workflow metrics from the worker's interceptor (issue 27, item 11), on a real Temporal dev server, read where
Prometheus reads them (pacte.metrics.exposition: Pacte's counters, then the SDK's exporter): an update's latency by
command type, the lock wait, a failed append, a decision that differs from the record."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.testing import WorkflowEnvironment

from domain.actors import Actor, Role
from domain.errors import DomainError
from eventstore.store import EventStore
from pacte import metrics, service
from pacte.runtime import build_worker
from pacte.simulation import _command
from tests.waiting import eventually
from workflows.contract import ContractWorkflow
from workflows.models import ContractWorkflowInput

pytestmark = pytest.mark.integration

PREFET = Actor(role=Role.PREFET, identity="dgcs", scope=("*",))


class FaultyStore:
    """The real store; ``fail_next`` makes the next append fail (refused), ``misstate_next`` makes it answer digests
    that are not those of the events decided (as if a rule had changed without a patch)."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.fail_next = False
        self.misstate_next = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def append(self, *args: Any, **kwargs: Any) -> Any:
        if self.fail_next:
            self.fail_next = False
            raise asyncpg.DataError("value out of range for type bigint")
        result = await self.store.append(*args, **kwargs)
        if self.misstate_next:
            self.misstate_next = False
            return result.model_copy(update={"stored": ["0" * 64 for _ in result.stored]})
        return result


@pytest.fixture(scope="module")
async def measured(
    temporal_env: WorkflowEnvironment, store: EventStore
) -> AsyncIterator[tuple[Client, FaultyStore, str]]:
    """A client and worker on a runtime whose SDK metrics go to the Prometheus exporter /metrics appends."""
    runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=metrics.sdk_metrics_address())))
    client = await Client.connect(
        temporal_env.client.service_client.config.target_host,
        namespace=temporal_env.client.namespace,
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )
    faulty = FaultyStore(store)
    queue = f"metrics-{uuid.uuid4().hex[:8]}"
    async with build_worker(client, faulty, queue):  # type: ignore[arg-type]
        yield client, faulty, queue


async def scraped() -> str:
    return (await metrics.exposition()).decode()


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels`` (0 when there is none)."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if match and all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
            total += float(match.group(2))
    return total


# Territories no other test uses (the session's store and server are shared), one per test.
async def start_contract(client: Client, queue: str, territory: str) -> str:
    cid = f"cls-{territory.lower()}"
    await client.start_workflow(
        ContractWorkflow.run, ContractWorkflowInput(contract_id=cid, append_total_s=5), id=cid, task_queue=queue
    )
    return cid


async def propose(client: Client, cid: str) -> Any:
    territory = cid.removeprefix("cls-").upper()
    command = _command(
        "ProposeContract",
        cid,
        PREFET,
        (await client.get_workflow_handle(cid).query(ContractWorkflow.business_now)) - timedelta(hours=1),
        territory_id=territory,
        annual_ceiling=100_000_00,
    ).model_copy(update={"request_id": str(uuid.uuid4())})
    return await service.send_command(client, command)


async def test_a_command_moves_its_latency_and_the_lock_wait(measured: tuple[Client, FaultyStore, str]) -> None:
    client, _, queue = measured
    before = await scraped()
    count = "pacte_workflow_update_latency_count"
    cid = await start_contract(client, queue, "D14")
    result = await propose(client, cid)
    assert result.state.status.value == "PROPOSED"

    async def moved() -> str | None:
        text = await scraped()
        ok = dict(command="ProposeContract", outcome="ok", update="execute")
        return text if value(text, count, **ok) == value(before, count, **ok) + 1 else None

    after = await eventually(moved, what="the update's latency recorded")
    lock = "pacte_workflow_lock_wait_count"
    assert value(after, lock, where="execute") >= value(before, lock, where="execute") + 1


async def test_a_failed_append_is_counted_by_kind(measured: tuple[Client, FaultyStore, str]) -> None:
    client, faulty, queue = measured
    name = "pacte_workflow_append_failures"
    before = value(await scraped(), name, kind="refused")
    cid = await start_contract(client, queue, "D37")  # Indre-et-Loire: no other test proposes it
    faulty.fail_next = True
    with pytest.raises(DomainError) as refused:
        await propose(client, cid)
    assert refused.value.code == "store_refused"

    async def counted() -> str | None:
        text = await scraped()
        return text if value(text, name, kind="refused") == before + 1 else None

    text = await eventually(counted, what="the failed append counted")
    outcome = dict(command="ProposeContract", outcome="store_refused")
    assert value(text, "pacte_workflow_update_latency_count", **outcome) >= 1


async def test_a_decision_that_differs_from_the_record_is_counted(measured: tuple[Client, FaultyStore, str]) -> None:
    client, faulty, queue = measured
    name = "pacte_workflow_nondeterminism"
    before = value(await scraped(), name)
    cid = await start_contract(client, queue, "D17")
    faulty.misstate_next = True
    sent = asyncio.ensure_future(propose(client, cid))  # the workflow task fails: the update gets no answer

    async def counted() -> bool:
        return value(await scraped(), name) >= before + 1

    await eventually(counted, what="the non-determinism counted")
    sent.cancel()
    await client.get_workflow_handle(cid).terminate("test over")
