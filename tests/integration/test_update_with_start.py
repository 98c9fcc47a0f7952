"""A proposal and an import start their contract and send its first command atomically (update-with-start), and the
import checks the store as the proposal does (issue 27, item 4). On a real Temporal server.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.actors import Actor, Role
from domain.commands import ProposeContract
from domain.decider import decide
from domain.policy import DEFAULT_POLICY
from domain.state import INITIAL_STATE
from eventstore.store import EventStore
from pacte.reprise_file import dump_lines
from pacte.service.facade import Pacte
from pacte.settings import Settings
from tests.integration.helpers import append_by_request

pytestmark = pytest.mark.integration

PREFET = Actor(role=Role.PREFET, identity="prefecture-vaucluse", scope=("84",))


async def no_workflow(client: Client, contract_id: str) -> bool:
    try:
        await client.get_workflow_handle(contract_id).describe()
    except RPCError as exc:
        return exc.status is RPCStatusCode.NOT_FOUND
    return False


def line(contract_id: str, territory: str, ceiling: int) -> dict[str, object]:
    return {
        "contract_id": contract_id,
        "type": "ProposeContract",
        "occurred_at": "2023-12-05",
        "actor": PREFET.model_dump(mode="json"),
        "territory_id": territory,
        "annual_ceiling": ceiling,
        "source": "convention CLS de Vaucluse, réf. CLS-84-2023-01",
    }


async def test_an_import_over_a_contract_the_store_holds_starts_nothing(
    client: Client, task_queue: str, store: EventStore
) -> None:
    """The store holds the contract, Temporal does not (its history gone past retention, a cluster rebuilt): the
    import used to start a workflow with no state, decide the file at version 0 and fail on the store's conflict,
    leaving that workflow idle. It is refused before anything starts, like a proposal."""
    cid = "cls-d84"
    proposed = ProposeContract(
        contract_id=cid,
        actor=PREFET,
        request_id=str(uuid.uuid4()),
        at=datetime(2023, 12, 1, tzinfo=UTC),
        territory_id="D84",
        annual_ceiling=90_000_000,
    )
    await append_by_request(store, cid, decide(proposed, INITIAL_STATE, DEFAULT_POLICY))
    before = await store.stream_version(cid)
    pacte = Pacte(client=client, store=store, settings=Settings(task_queue=task_queue))
    report = await pacte.import_file(PREFET, dump_lines([line(cid, "D84", 80_000_000)]))
    assert report.refused == 1 and report.contracts[0].code == "already_exists"
    assert await no_workflow(client, cid) and await store.stream_version(cid) == before


async def test_an_import_starts_its_workflow_with_the_file_and_the_same_file_again_is_unchanged(
    client: Client, task_queue: str, store: EventStore
) -> None:
    cid = "cls-d85"
    pacte = Pacte(client=client, store=store, settings=Settings(task_queue=task_queue))
    text = dump_lines([line(cid, "D85", 80_000_000) | {"actor": PREFET_VENDEE.model_dump(mode="json")}])
    first = (await pacte.import_file(PREFET_VENDEE, text)).contracts[0]
    assert first.outcome == "imported" and first.version == await store.stream_version(cid)
    history = await client.get_workflow_handle(cid).fetch_history()
    # One workflow task took the start and the file: the update was accepted before any other task completed.
    accepted = next(
        i for i, e in enumerate(history.events) if e.HasField("workflow_execution_update_accepted_event_attributes")
    )
    assert sum(e.HasField("workflow_task_completed_event_attributes") for e in history.events[:accepted]) == 1
    again = (await pacte.import_file(PREFET_VENDEE, text)).contracts[0]
    assert again.outcome == "unchanged" and again.version == first.version


PREFET_VENDEE = Actor(role=Role.PREFET, identity="prefecture-vendee", scope=("85",))
