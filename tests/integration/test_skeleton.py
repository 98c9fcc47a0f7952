"""The walking skeleton through every layer, against a real Temporal server and a real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.actors import Actor, Role
from domain.commands import ProposeContract
from domain.errors import DomainError
from domain.state import Status
from eventstore.store import EventStore
from pacte import service
from tests.waiting import eventually

pytestmark = pytest.mark.integration

PREFET = Actor(role=Role.PREFET, identity="prefet-test", scope=("*",))


def propose_command(territory: str, ceiling: int, actor: Actor = PREFET) -> ProposeContract:
    return ProposeContract(
        contract_id=f"cls-{territory.lower()}",
        actor=actor,
        request_id=str(uuid.uuid4()),
        at=datetime(2024, 1, 15, 10, 0, tzinfo=UTC),
        territory_id=territory,
        annual_ceiling=ceiling,
    )


async def assert_nothing_started_or_written(client: Client, store: EventStore, contract_id: str) -> None:
    with pytest.raises(RPCError) as info:
        await client.get_workflow_handle(contract_id).describe()
    assert info.value.status is RPCStatusCode.NOT_FOUND
    assert await store.stream_version(contract_id) == 0
    assert await store.read_stream(contract_id) == []


async def test_propose_starts_the_workflow_and_records_the_event(
    client: Client, store: EventStore, task_queue: str
) -> None:
    outcome = await service.propose(client, task_queue, propose_command("243300316", 150_000_000))
    assert outcome.created
    assert outcome.result is not None and outcome.result.version == 1

    state = await service.current_state(client, "cls-243300316")
    assert state.status is Status.PROPOSED
    assert state.territory_name == "Bordeaux Métropole"
    assert state.annual_ceiling == 150_000_000

    # A métropole was to sign by 31 March 2024: the workflow's timer records, by itself, that it did not.
    async def both_recorded() -> list[Any]:
        found = await service.history(store, "cls-243300316")
        return found if len(found) == 2 else []

    events = await eventually(both_recorded, what="the missed signature recorded by the timer")
    assert [e.event_type for e in events] == ["ContractProposed", "DeadlineMissed"]
    assert events[1].payload["deadline"] == "signature" and events[1].payload["due"] == "2024-03-31"
    assert events[1].metadata["actor"]["role"] == "system"
    assert events[0].metadata["actor"]["identity"] == "prefet-test"
    assert events[0].metadata["workflow_id"] == "cls-243300316"
    assert events[0].occurred_at == datetime(2024, 1, 15, 10, 0, tzinfo=UTC)
    assert events[0].payload["annual_ceiling"] == 150_000_000


async def test_a_second_proposal_reports_that_the_contract_exists(
    client: Client, store: EventStore, task_queue: str
) -> None:
    first = await service.propose(client, task_queue, propose_command("D31", 100_000_000))
    again = await service.propose(client, task_queue, propose_command("D31", 100_000_000))
    assert first.created and not again.created
    assert [e.event_type for e in await store.read_stream("cls-d31")] == ["ContractProposed"]


async def test_the_same_request_twice_gives_the_same_answer_and_one_event(
    client: Client, store: EventStore, task_queue: str
) -> None:
    command = propose_command("D44", 90_000_000)
    await service.propose(client, task_queue, command)
    replay = await service.send_command(client, command)  # same request id: answered, nothing new
    assert replay.version == 1
    assert len(await store.read_stream("cls-d44")) == 1


@pytest.mark.parametrize(
    ("territory", "ceiling", "code", "field"),
    [
        ("999999999", 150_000_000, "unknown_territory", "territory"),
        ("200040715", 0, "invalid_value", "ceiling"),
    ],
)
async def test_refused_proposals_start_nothing_and_write_nothing(
    client: Client, store: EventStore, task_queue: str, territory: str, ceiling: int, code: str, field: str
) -> None:
    with pytest.raises(DomainError) as info:
        await service.propose(client, task_queue, propose_command(territory, ceiling))
    assert info.value.code == code and info.value.field == field
    await assert_nothing_started_or_written(client, store, f"cls-{territory.lower()}")


async def test_a_prefet_out_of_scope_is_refused_and_nothing_is_written(
    client: Client, store: EventStore, task_queue: str
) -> None:
    gironde_only = Actor(role=Role.PREFET, identity="prefet-33", scope=("33",))
    with pytest.raises(DomainError) as info:
        await service.propose(client, task_queue, propose_command("200030195", 10_000_000, gironde_only))  # Nice
    assert info.value.code == "out_of_scope"
    await assert_nothing_started_or_written(client, store, "cls-200030195")


async def test_show_of_an_unknown_contract_is_not_found(client: Client, store: EventStore) -> None:
    with pytest.raises(service.ContractNotFound):
        await service.current_state(client, "cls-000000000")
    with pytest.raises(service.ContractNotFound):
        await service.history(store, "cls-000000000")
