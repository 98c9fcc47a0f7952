"""No input and no store failure can wedge a contract: each failure class is injected into the append, the command
gets a problem (or succeeds once the store answers), nothing half-written, and a correct command succeeds right after."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.actors import Actor, Role
from domain.errors import DomainError
from eventstore.store import EventStore
from pacte import service
from pacte.embedded import SERVER_STARTUP, binary_path
from pacte.runtime import build_worker
from pacte.simulation import _command
from tests.sealing import CONVERTER
from workflows.contract import ContractWorkflow
from workflows.models import ContractWorkflowInput

pytestmark = pytest.mark.integration

# Territories no other test uses (the session's store is shared): DOM départements, Alsace, Perpignan.
PREFET = Actor(role=Role.PREFET, identity="dgcs", scope=("*",))  # proposes anywhere (signing is another matter)


class FaultyStore:
    """The real store, with failures injected into ``append`` on demand."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.next: list[BaseException] = []
        self.always: BaseException | None = None
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def append(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.always is not None:
            raise self.always
        if self.next:
            raise self.next.pop(0)
        return await self.store.append(*args, **kwargs)


@pytest.fixture
async def faulty(store: EventStore) -> AsyncIterator[tuple[WorkflowEnvironment, FaultyStore]]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=CONVERTER,
        test_server_existing_path=binary_path("temporal-test-server"),
        test_server_startup_timeout=SERVER_STARTUP,
    )
    wrapped = FaultyStore(store)
    async with build_worker(env.client, wrapped, "faults"):  # type: ignore[arg-type]
        yield env, wrapped
    await env.shutdown()


async def start(env: WorkflowEnvironment, contract_id: str, append_total_s: float = 3) -> None:
    await env.client.start_workflow(
        ContractWorkflow.run,
        ContractWorkflowInput(contract_id=contract_id, append_total_s=append_total_s),
        id=contract_id,
        task_queue="faults",
    )


async def propose(env: WorkflowEnvironment, contract_id: str, territory: str, **kwargs: Any) -> Any:
    command = _command(
        "ProposeContract",
        contract_id,
        PREFET,
        await env.get_current_time() - timedelta(hours=1),
        territory_id=territory,
        annual_ceiling=100_000_00,
    ).model_copy(update={"request_id": str(uuid.uuid4())})
    return await service.send_command(env.client, command, **kwargs)


@pytest.mark.parametrize(
    ("territory", "fault"),
    [
        ("D974", asyncpg.DataError("value out of range for type bigint")),
        ("D976", UnicodeEncodeError("utf-8", "x\ud800", 1, 2, "surrogates not allowed")),
        ("D973", asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence for encoding UTF8: 0x00")),
    ],
)
async def test_a_data_error_is_refused_at_once_and_the_contract_stays_usable(  # type: ignore[no-untyped-def]
    faulty, store: EventStore, territory: str, fault: BaseException
) -> None:
    env, wrapped = faulty
    cid = f"cls-{territory.lower()}"
    await start(env, cid)
    wrapped.next = [fault]
    with pytest.raises(DomainError) as info:
        await propose(env, cid, territory)
    assert info.value.code == "store_refused"
    # Never retried, since it cannot succeed: one call (counted, not timed: a loaded machine stretches any clock).
    assert wrapped.calls == 1 and await store.stream_version(cid) == 0  # nothing written
    result = await propose(env, cid, territory)  # a correct command, right after
    assert result.state.status.value == "PROPOSED" and await store.stream_version(cid) >= 1


async def test_a_transient_error_is_retried_and_the_command_succeeds(faulty, store: EventStore) -> None:  # type: ignore[no-untyped-def]
    env, wrapped = faulty
    await start(env, "cls-d6768", append_total_s=30)
    wrapped.next = [
        ConnectionError("connection reset"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
    ]
    result = await propose(env, "cls-d6768", "D6768")
    assert result.state.status.value == "PROPOSED" and wrapped.calls == 3


async def test_a_store_down_gets_a_problem_within_the_bound_then_the_contract_works_again(  # type: ignore[no-untyped-def]
    faulty, store: EventStore
) -> None:
    env, wrapped = faulty
    await start(env, "cls-200027183")
    wrapped.always = ConnectionError("connection refused")
    began = time.monotonic()
    with pytest.raises(DomainError) as info:
        await propose(env, "cls-200027183", "200027183")
    assert info.value.code == "store_unavailable" and time.monotonic() - began < 30
    assert await store.stream_version("cls-200027183") == 0
    # A caller who will not wait is answered in time too; the same command sent again is harmless.
    command = _command(
        "ProposeContract",
        "cls-200027183",
        PREFET,
        await env.get_current_time() - timedelta(hours=1),
        territory_id="200027183",
        annual_ceiling=100_000_00,
    ).model_copy(update={"request_id": "retry-me"})
    with pytest.raises(DomainError) as info:
        await service.send_command(env.client, command, answer_within_s=0.5)
    assert info.value.code in ("timeout", "store_unavailable")
    wrapped.always = None
    result = await service.send_command(env.client, command)  # the store is back: the same command again
    assert result.state.status.value == "PROPOSED"
    assert [e.event_type for e in await store.read_stream("cls-200027183")].count("ContractProposed") == 1
