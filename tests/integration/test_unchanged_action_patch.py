"""A ChangeAction that changes nothing records nothing — it used to record an identical ActionChanged. A running
contract takes the new behaviour behind ``workflow.patched(UNCHANGED_ACTION_PATCH)``: a history recorded with the old
one replays, and a contract deciding such a command now records no fact and the marker."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

import workflows.contract
from domain.actors import Actor, Role
from domain.axes import Axis
from domain.commands import ChangeAction, ProposeContract
from domain.events import ActionChanged, Event
from domain.messages import event_fields
from domain.policy import Policy
from domain.rules import RULES
from domain.state import ContractState
from pacte import service
from pacte.codec import for_replay
from pacte.service.operations import send_command
from tests.sealing import CONVERTER
from tests.unit.builders import action
from workflows.contract import UNCHANGED_ACTION_PATCH, ContractWorkflow

pytestmark = pytest.mark.integration

PREFET = Actor(role=Role.PREFET, identity="prefet-fiches", scope=("*",))
FICHE = action("N1", Axis.ENFANCE, 10_000)


async def contract_with_an_unchanged_edit(client: Client, task_queue: str, territory: str) -> tuple[int, Any]:
    """A contract proposed with one fiche, then that fiche sent back unchanged: the facts the edit recorded, and the
    workflow's history."""
    contract_id = f"cls-{territory.lower()}"
    at = datetime(2024, 1, 10, 9, tzinfo=UTC)
    proposal = ProposeContract(
        contract_id=contract_id,
        actor=PREFET,
        request_id=str(uuid.uuid4()),
        at=at,
        territory_id=territory,
        annual_ceiling=100_000_000,
        draft_actions=(FICHE,),
    )
    assert (await service.propose(client, task_queue, proposal)).result is not None
    edit = ChangeAction(contract_id=contract_id, actor=PREFET, request_id=str(uuid.uuid4()), at=at, action=FICHE)
    result = await send_command(client, edit, state=False)
    history = await client.get_workflow_handle(contract_id).fetch_history()
    return len(result.events), history


def marked(history: WorkflowHistory) -> bool:
    return any(
        UNCHANGED_ACTION_PATCH in str(e.marker_recorded_event_attributes)
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
    )


async def replay(history: WorkflowHistory) -> Any:
    replayer = Replayer(
        workflows=[ContractWorkflow],
        data_converter=for_replay(CONVERTER),
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    return await replayer.replay_workflow(history, raise_on_replay_failure=False)


async def test_an_unchanged_edit_records_nothing_and_the_marker(client: Client, task_queue: str) -> None:
    recorded, history = await contract_with_an_unchanged_edit(client, task_queue, "D58")
    assert recorded == 0 and marked(history)
    assert (await replay(history)).replay_failure is None


async def test_a_history_recorded_when_an_unchanged_edit_was_a_fact_still_replays(
    client: Client, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The code of before: ChangeAction recorded its ActionChanged whatever it changed.
    def change_then(command: ChangeAction, state: ContractState, policy: Policy) -> list[Event]:
        return [ActionChanged(**event_fields(command), action=command.action)]

    with monkeypatch.context() as then:
        then.setitem(RULES, "ChangeAction", dataclasses.replace(RULES["ChangeAction"], handler=change_then))
        recorded, history = await contract_with_an_unchanged_edit(client, task_queue, "D89")
    assert recorded == 1 and not marked(history)
    # Today's code replays it: the patch answers "no" for a history without its marker, and the fact is recorded
    # again as it was.
    assert (await replay(history)).replay_failure is None
    # The control: without the patch (the new behaviour taken unconditionally), the same history does not replay.
    monkeypatch.setattr(workflows.contract, "unchanged_action_as_recorded_before", lambda command, state: [])
    failure = (await replay(history)).replay_failure
    assert failure is not None and "nondeterminism" in str(failure).lower()
