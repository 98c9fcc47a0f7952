"""An append whose outcome is unknown never leaves a contract stuck (issue 27, item 1), on a real Temporal server.

The store commits each append, then the answer is lost (the connection drops after the commit) on every attempt
within the bound. The workflow is the only writer of its stream: it reads what the store holds after its version and
folds the events whose request ids are its own. The caller is told ``outcome_unknown`` only while the store cannot be
read either; the contract settles by itself as soon as it can, and the same request sent again says it was recorded.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.commands import Command
from domain.errors import DomainError
from domain.state import ContractState, Status
from domain.territories import REFERENCE_TERRITORIES
from eventstore.store import EventStore
from pacte import service
from pacte.runtime import build_worker
from pacte.simulation import _command, actors_for, plan_for
from workflows.contract import ContractWorkflow
from workflows.models import ContractWorkflowInput

pytestmark = pytest.mark.integration


class LosingStore:
    """The real store; ``lose`` drops each append's answer after its commit; ``unreadable`` fails reads too."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.lose = False
        self.unreadable = False
        self.lost = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def append(self, *args: Any, **kwargs: Any) -> Any:
        if self.unreadable and not self.lose:  # the store down: nothing committed, nothing readable
            raise ConnectionError("connection refused")
        if self.unreadable and self.lose:
            result = await self.store.append(*args, **kwargs)
            self.lost += 1
            raise ConnectionError("connection lost after the commit") from None
        result = await self.store.append(*args, **kwargs)
        if self.lose:
            self.lost += 1
            raise ConnectionError("connection lost after the commit")
        return result

    async def load_events(self, *args: Any, **kwargs: Any) -> Any:
        if self.unreadable:
            raise ConnectionError("connection refused")
        return await self.store.load_events(*args, **kwargs)

    async def stream_version(self, *args: Any, **kwargs: Any) -> Any:
        if self.unreadable:
            raise ConnectionError("connection refused")
        return await self.store.stream_version(*args, **kwargs)


@pytest.fixture
async def losing(temporal_env: WorkflowEnvironment, store: EventStore) -> AsyncIterator[tuple[LosingStore, str]]:
    wrapped = LosingStore(store)
    queue = f"unknown-{uuid.uuid4().hex[:6]}"
    async with build_worker(temporal_env.client, wrapped, queue):  # type: ignore[arg-type]
        yield wrapped, queue


async def until(check: Callable[[], Awaitable[bool]], within_s: float = 120) -> None:
    """Wait for a condition with a generous deadline (the machine is shared and loaded)."""
    async with asyncio.timeout(within_s):
        while not await check():  # noqa: ASYNC110 - a condition on other processes: polled
            await asyncio.sleep(0.2)


def proposal(territory: str, at: Any) -> Command:
    plan = plan_for(REFERENCE_TERRITORIES[territory], seed=3, incidents=False)
    command = plan.steps[0].build(None, at)  # type: ignore[arg-type]
    assert command is not None
    return command.model_copy(update={"at": at, "request_id": str(uuid.uuid4())})


def change(territory: str, state: ContractState) -> Command:
    first = next(iter(state.actions.values()))
    return _command(
        "ChangeAction",
        f"cls-{territory.lower()}",
        actors_for(REFERENCE_TERRITORIES[territory])["collectivite"],
        state.last_at,  # type: ignore[arg-type]
        action=first.model_copy(update={"title": "Titre révisé"}),
    ).model_copy(update={"request_id": str(uuid.uuid4())})


async def start(env: WorkflowEnvironment, queue: str, contract_id: str, **fields: Any) -> None:
    await env.client.start_workflow(
        ContractWorkflow.run,
        ContractWorkflowInput(contract_id=contract_id, append_total_s=3, **fields),
        id=contract_id,
        task_queue=queue,
    )


async def test_an_append_whose_answer_is_lost_is_folded_from_the_store(
    temporal_env: WorkflowEnvironment, losing: tuple[LosingStore, str], store: EventStore
) -> None:
    wrapped, queue = losing
    territory, cid = "D47", "cls-d47"
    await start(temporal_env, queue, cid)
    wrapped.lose = True
    now = await temporal_env.get_current_time()
    result = await service.send_command(temporal_env.client, proposal(territory, now - timedelta(hours=1)))
    # Recorded, and the workflow knows it: it read its own events back instead of answering "nothing was recorded".
    assert wrapped.lost >= 1
    proposed = await store.stream_version(cid)
    assert proposed >= 1 and result.version == proposed and result.events[0]["type"] == "ContractProposed"
    state = await service.current_state(temporal_env.client, cid)
    assert state.status is Status.PROPOSED and state.version == proposed
    # The next, different command is decided at the right version: it succeeds (it used to be refused forever).
    wrapped.lose = False
    changed = await service.send_command(temporal_env.client, change(territory, state))
    assert changed.version == proposed + 1
    assert [e.event_type for e in await store.read_stream(cid)][-1] == "ActionChanged"


async def test_outcome_unknown_only_while_the_store_cannot_be_read_then_the_contract_settles(
    temporal_env: WorkflowEnvironment, losing: tuple[LosingStore, str], store: EventStore
) -> None:
    wrapped, queue = losing
    territory, cid = "D48", "cls-d48"
    await start(temporal_env, queue, cid)
    wrapped.lose = wrapped.unreadable = True
    now = await temporal_env.get_current_time()
    command = proposal(territory, now - timedelta(hours=1))
    with pytest.raises(DomainError) as info:
        await service.send_command(temporal_env.client, command)
    assert info.value.code == "outcome_unknown"
    proposed = await store.stream_version(cid)
    assert proposed >= 1  # it was recorded: the caller was right not to be told "nothing was recorded"
    wrapped.lose = wrapped.unreadable = False

    async def settled() -> bool:
        return (await service.current_state(temporal_env.client, cid)).version == proposed

    await until(settled)  # by itself, on a short timer: no command needed
    # The same request again: Temporal holds the first answer under its id, the service asks the contract instead.
    again = await service.send_command(temporal_env.client, command, store=store)
    assert again.version == proposed and again.events[0]["type"] == "ContractProposed"
    state = await service.current_state(temporal_env.client, cid)
    changed = await service.send_command(temporal_env.client, change(territory, state))
    assert changed.version == proposed + 1
    assert [e.event_type for e in await store.read_stream(cid)].count("ContractProposed") == 1


async def test_a_campaign_child_whose_proposal_answer_is_lost_is_not_orphaned(
    temporal_env: WorkflowEnvironment, losing: tuple[LosingStore, str], store: EventStore
) -> None:
    wrapped, queue = losing
    territory, cid = "D49", "cls-d49"
    now = await temporal_env.get_current_time()
    wrapped.lose = True
    await start(temporal_env, queue, cid, propose=proposal(territory, now - timedelta(hours=1)))

    async def recorded() -> bool:
        return await store.stream_version(cid) >= 1 and wrapped.lost >= 1

    await until(recorded)
    wrapped.lose = False

    async def proposed() -> bool:
        return (await service.current_state(temporal_env.client, cid)).status is Status.PROPOSED

    await until(proposed)  # it used to end in status NONE with ContractProposed in the store
    description = await temporal_env.client.get_workflow_handle(cid).describe()
    assert description.status is not None and description.status.name == "RUNNING"


async def test_a_command_whose_outcome_was_unknown_and_not_recorded_is_recorded_when_sent_again(
    temporal_env: WorkflowEnvironment, losing: tuple[LosingStore, str], store: EventStore
) -> None:
    """The store down for both the append and the read back: "outcome unknown". Once it answers, the contract finds
    nothing of that command; the same request sent again (Temporal holds "outcome unknown" under its update id) is
    then recorded — once."""
    wrapped, queue = losing
    territory, cid = "D46", "cls-d46"
    await start(temporal_env, queue, cid)
    wrapped.unreadable = True
    now = await temporal_env.get_current_time()
    command = proposal(territory, now - timedelta(hours=1))
    with pytest.raises(DomainError) as info:
        await service.send_command(temporal_env.client, command)
    assert info.value.code == "outcome_unknown" and await store.stream_version(cid) == 0
    wrapped.unreadable = False

    async def settled() -> bool:  # by itself: it read its stream again and found nothing of the command
        outcome: str = await temporal_env.client.get_workflow_handle(cid).query(
            ContractWorkflow.request_outcome, command.request_id
        )
        return outcome == "not_recorded"

    await until(settled)
    again = await service.send_command(temporal_env.client, command, store=store)
    assert again.events[0]["type"] == "ContractProposed" and again.version == await store.stream_version(cid)
    assert [e.event_type for e in await store.read_stream(cid)].count("ContractProposed") == 1
