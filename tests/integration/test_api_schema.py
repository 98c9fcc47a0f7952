"""Schemathesis drives the API from its own OpenAPI schema: for every operation, requests generated to fit the schema
and requests generated to break it, each sent with one of the cast's tokens, a garbage token or none. Nothing may
answer 500 or hang; every answer must match what the schema documents; a request that breaks the schema must be
refused; and a refused request must leave no event, no projection row and no reminder behind.

Generated path parameters mostly point at a real contract (and its real actions), so that bodies reach the domain's
rules instead of stopping at "no such contract"."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from domain.actors import Actor, Role
from eventstore.store import EventStore
from pacte.api import create_app
from pacte.settings import Settings
from tests.integration.helpers import auth
from tests.unit.builders import BORDEAUX_ACTIONS

pytestmark = pytest.mark.integration
# What orchestrators and Prometheus call without a token: liveness, readiness, metrics.
PUBLIC = {"/health", "/ready", "/metrics"}

# A contract of its own (the Métropole européenne de Lille), so that whatever generated requests manage to do cannot
# disturb other tests.
CID = "cls-200093201"
ACTORS = {
    "prefet": Actor(role=Role.PREFET, identity="prefecture-nord", scope=("59",)),
    "collectivite": Actor(role=Role.COLLECTIVITE, identity="metropole-lille", scope=("200093201",)),
    "commissaire": Actor(role=Role.COMMISSAIRE, identity="commissaire-hdf", scope=("32",)),
    "auditor": Actor(role=Role.AUDITOR, identity="cour-des-comptes", scope=("*",)),
    "prefet_elsewhere": Actor(role=Role.PREFET, identity="prefecture-gironde", scope=("33",)),
    "collectivite_elsewhere": Actor(role=Role.COLLECTIVITE, identity="departement-gironde", scope=("D33",)),
}
# The cast acting on its own contract is drawn most often: they are the ones whose requests reach the rules.
CALLERS = ["prefet", "collectivite", "commissaire", "auditor"] * 3 + [*ACTORS, "expired", "garbage", "nobody"]
ACTION_IDS = [a.action_id for a in BORDEAUX_ACTIONS]
EXAMPLES_PER_OPERATION = 80


@schemathesis.serializer("application/x-ndjson")
def _json_lines(ctx: Any, value: Any) -> bytes:
    """An import file is text (JSON lines): generated strings go as they are, anything else as one JSON line."""
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else json.dumps(value).encode()


def schema_without_security() -> dict[str, Any]:
    """The API's schema with the bearer requirement taken out: the test chooses the caller (a real token, a garbage
    one or none) itself, and the generator spends its negative cases on the parameters and bodies."""
    spec = create_app(Settings()).openapi()
    for operations in spec["paths"].values():
        for operation in operations.values():
            operation.pop("security", None)
    return spec


SCHEMA = schemathesis.openapi.from_dict(schema_without_security())
# Ending a contract closes most doors, so the operations that can end it go last.
OPERATIONS = sorted(
    (result.ok() for result in SCHEMA.get_all_operations()),
    key=lambda op: op.path.endswith(("/termination", "/closing")),
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


async def footprint(store: EventStore) -> tuple[Any, ...]:
    """Everything a request could write: events, both projections and the reminders outbox."""
    row = await store.pool.fetchrow(
        """
        SELECT (SELECT count(*) FROM events),
               (SELECT md5(coalesce(string_agg(s::text, '|' ORDER BY s.contract_id), '')) FROM contract_summary s),
               (SELECT md5(coalesce(string_agg(a::text, '|' ORDER BY a::text), '')) FROM contract_axis_year a),
               (SELECT count(*) FROM reminders)
        """
    )
    return tuple(row)


async def settled(store: EventStore) -> tuple[Any, ...]:
    """The footprint once nothing has changed for a moment (timers a success started may still be writing)."""
    previous = await footprint(store)
    for _ in range(50):
        await asyncio.sleep(0.2)
        current = await footprint(store)
        if current == previous:
            return current
        previous = current
    raise AssertionError("the store kept changing for 10 s after a request")


@pytest.fixture(scope="module")
async def target(api: tuple[httpx.AsyncClient, dict[str, str]], store: EventStore) -> dict[str, Any]:
    """Lille's contract with the draft actions, proposed once; holds the footprint the next request must keep."""
    http, issued = api
    drafts = [a.model_dump(mode="json") for a in BORDEAUX_ACTIONS]
    response = await http.post(
        "/contracts",
        json={"territory": "200093201", "annual_ceiling": 150_000_000, "draft_actions": drafts},
        headers=auth(issued, "prefet"),
    )
    assert response.status_code in (201, 409), response.text
    return {"footprint": await settled(store), "answers": Counter()}


def headers_for(issued: dict[str, str], caller: str, generated: dict[str, Any]) -> dict[str, str]:
    headers = {k: v for k, v in generated.items() if k.lower() != "authorization"}
    if caller == "garbage":
        headers["Authorization"] = "Bearer not-a-token"
    elif caller != "nobody":
        headers.update(auth(issued, caller))
    return headers


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
async def test_schema_generated_requests(api, store: EventStore, target, operation, data) -> None:  # type: ignore[no-untyped-def]
    http, issued = api
    mode = data.draw(st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE]), label="mode")
    case = data.draw(operation.as_strategy(generation_mode=mode), label="case")
    # Point well-formed paths at the real contract and its actions; a path the generator broke on purpose stays broken.
    path_component = case.meta.components.get(ParameterLocation.PATH) if case.meta else None
    if path_component is not None and path_component.mode is GenerationMode.POSITIVE:
        if "contract_id" in case.path_parameters and data.draw(st.integers(0, 9), label="real contract") < 8:
            case.path_parameters["contract_id"] = CID
        if "action_id" in case.path_parameters and data.draw(st.booleans(), label="real action"):
            case.path_parameters["action_id"] = data.draw(st.sampled_from(ACTION_IDS))
    caller = data.draw(st.sampled_from(CALLERS), label="caller")

    sent = case.as_transport_kwargs(base_url="http://pacte")
    request: dict[str, Any] = {
        "method": sent["method"],
        "url": sent["url"],
        "params": sent.get("params"),
        "headers": headers_for(issued, caller, sent.get("headers") or {}),
    }
    if "json" in sent:
        request["json"] = sent["json"]
    elif "data" in sent:
        request["content"] = sent["data"]
    try:
        built = http.build_request(**request)
    except (UnicodeEncodeError, httpx.LocalProtocolError, httpx.InvalidURL):
        reject()  # not something a client can put on the wire

    async with asyncio.timeout(20):  # no hang
        response = await http.send(built)
    refused = response.status_code >= 400
    target["answers"][
        f"{response.status_code} {response.json()['code']}" if refused else str(response.status_code)
    ] += 1

    case.validate_response(response, checks=CHECKS)
    if refused or operation.method.upper() == "GET":  # a refusal, and any read, leaves the store as it was
        assert await footprint(store) == target["footprint"], f"{operation.label} {response.status_code} wrote"
    if refused:
        # Every refusal is the same problem; /ready's 503 (a worker slow to poll on a loaded machine) keeps its checks.
        kept = {"ready", "checks"} if operation.path == "/ready" else set()
        # A domain refusal also lists every refusal it found at once (``errors``, the first included).
        assert set(response.json()) - {"errors"} == {"code", "message", "field", *kept}, response.text
        if caller in ("expired", "garbage", "nobody") and operation.path not in PUBLIC:
            assert response.status_code == 401
    else:
        if caller not in ACTORS:
            assert operation.path in PUBLIC, f"{operation.label} answered {response.status_code} without a token"
        if operation.method.upper() != "GET":
            if operation.path.startswith("/contracts/"):
                # What the answer says it recorded is what the stream holds (timers may have added more after it).
                answer = response.json()
                stored = await store.read_stream(answer["contract_id"], up_to_version=answer["version"])
                recorded = [e.event_type for e in stored[len(stored) - len(answer["events"]) :]]
                assert recorded == [e["type"] for e in answer["events"]]  # empty: a retry, answered as such
            target["footprint"] = await settled(store)


def test_the_generated_requests_got_past_the_door(target) -> None:  # type: ignore[no-untyped-def]
    """Runs after the operations above (it fails alone): thousands of requests were sent, and they were not all
    stopped at authentication or by the schema — some succeeded, some reached the contract's lifecycle rules."""
    answers: Counter[str] = target["answers"]
    assert answers.total() >= 25 * len(OPERATIONS), dict(answers)
    statuses = {answer.split()[0] for answer in answers}
    assert {"200", "401", "403", "404", "409", "422"} <= statuses, dict(answers)
    assert answers["409 lifecycle_violation"] > 0, dict(answers)
