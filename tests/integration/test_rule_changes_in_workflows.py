"""A rule changed during the programme reaches running contracts behind ``workflow.patched(change.id)``: a recorded
history replays as it was decided, and a contract deciding a fact under the change from now on records the marker.

The change here is a later version of a handler, in force from 1 January 2025 (``domain/rules/declaration.amends``),
added to the code's dated changes (``domain.policy.RULE_CHANGES``) as a release would add it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

import domain.decider
import domain.policy
import workflows.contract
from domain.actors import Actor, Role
from domain.commands import ProposeContract, RecordCommitteeReview
from domain.events import Event
from domain.policy import Policy, PolicyChange
from domain.rules import RULES
from domain.rules.declaration import amends
from domain.rules.execution import record_review
from domain.rules.negotiation import propose
from domain.state import ContractState
from domain.territories import TerritoryCatalogue
from pacte import service
from tests.sealing import REPLAY_CONVERTER
from workflows.contract import ContractWorkflow

pytestmark = pytest.mark.integration

HISTORY = Path(__file__).parents[1] / "histories" / "cls-243500139-run2.json"  # 2025, with a committee review
CHANGE = PolicyChange(id="rules-test-2025", in_force_from=date(2025, 1, 1), reference="a test's instruction")
STAMP = "décidé selon la règle de 2025"


@pytest.fixture
def change_2025(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A release that changes how committee reviews and proposals dated from 2025 on are decided."""
    monkeypatch.setitem(RULES, "RecordCommitteeReview", RULES["RecordCommitteeReview"])  # restored after the test
    monkeypatch.setitem(RULES, "ProposeContract", RULES["ProposeContract"])

    @amends(RecordCommitteeReview, change=CHANGE.id)
    def review_2025(command: RecordCommitteeReview, state: ContractState, policy: Policy) -> list[Event]:
        return [stamped(e) for e in record_review(command, state, policy)]

    @amends(ProposeContract, change=CHANGE.id)
    def propose_2025(
        command: ProposeContract, state: ContractState, policy: Policy, catalogue: TerritoryCatalogue
    ) -> list[Event]:
        return [stamped(e) for e in propose(command, state, policy, catalogue)]

    monkeypatch.setattr(domain.policy, "RULE_CHANGES", (CHANGE,))
    yield


def stamped(event: Event) -> Event:
    return event.model_copy(update={"source": STAMP})


async def replay_history(history: WorkflowHistory, *, sandboxed: bool = True) -> Any:
    runner = {} if sandboxed else {"workflow_runner": UnsandboxedWorkflowRunner()}
    replayer = Replayer(workflows=[ContractWorkflow], data_converter=REPLAY_CONVERTER, **runner)
    return await replayer.replay_workflow(history, raise_on_replay_failure=False)


async def replay(path: Path) -> Any:
    text = path.read_text()  # noqa: ASYNC240 - a small local file, read once
    history = WorkflowHistory.from_json(path.stem.rsplit("-run", 1)[0], text)
    replayer = Replayer(workflows=[ContractWorkflow], data_converter=REPLAY_CONVERTER)
    return await replayer.replay_workflow(history, raise_on_replay_failure=False)


async def test_a_history_recorded_before_a_rule_changed_replays_as_it_was_decided(change_2025: None) -> None:
    result = await replay(HISTORY)
    assert result.replay_failure is None


async def test_without_its_patch_the_same_change_would_break_the_running_contract(
    change_2025: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: the change taken unconditionally decides the 2025 review of the recorded run differently, and the
    replay fails — so the test above passes because of the patch, not because the change changes nothing."""
    real = domain.decider.decide

    def unpatched(command, state, policy, *args, **kwargs):  # type: ignore[no-untyped-def]
        return real(command, state, policy.with_changes((CHANGE,)), *args, **kwargs)

    monkeypatch.setattr(domain.decider, "decide", unpatched)
    result = await replay(HISTORY)
    assert result.replay_failure is not None
    assert "non-determinism: cls-243500139" in str(result.replay_failure)


PREFET = Actor(role=Role.PREFET, identity="prefet-regles", scope=("*",))


async def proposed(client: Client, task_queue: str, territory: str, on: datetime) -> tuple[list[dict[str, Any]], bool]:
    """Propose the territory's contract as of ``on``: the facts recorded, and whether its history holds the marker."""
    command = ProposeContract(
        contract_id=f"cls-{territory.lower()}",
        actor=PREFET,
        request_id=str(uuid.uuid4()),
        at=on,
        territory_id=territory,
        annual_ceiling=100_000_000,
    )
    outcome = await service.propose(client, task_queue, command)
    assert outcome.result is not None
    history = await client.get_workflow_handle(command.contract_id).fetch_history()
    markers = [
        str(e.marker_recorded_event_attributes)
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
    ]
    marked = any(CHANGE.id in marker for marker in markers)
    return outcome.result.events, marked


async def test_a_contract_deciding_a_fact_under_the_change_takes_it_and_records_the_marker(
    change_2025: None, client: Client, task_queue: str
) -> None:
    events, marked = await proposed(client, task_queue, "D36", datetime(2025, 6, 2, 9, tzinfo=UTC))
    assert [e["source"] for e in events] == [STAMP]
    assert marked
    history = await client.get_workflow_handle("cls-d36").fetch_history()
    assert (await replay_history(history)).replay_failure is None
    # A fact dated before the change is decided by the first version, though the contract runs under it today (its
    # calendar, judged today, takes the change too).
    events, _ = await proposed(client, task_queue, "D39", datetime(2024, 6, 3, 9, tzinfo=UTC))
    assert [e["source"] for e in events] == [None]


async def test_a_deprecated_patch_keeps_the_histories_recorded_under_it_replaying_and_retiring_it_waits_for_them(
    change_2025: None, client: Client, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once no open run predates the change, its patch is deprecated (workflow.deprecate_patch: every run takes the
    change): a history recorded under workflow.patched still replays. Retired (no call at all), it would not: the
    patch is retired only once no history recorded before its deprecation is replayed. (Unsandboxed, so that the
    retirement set here is the one the replayed workflow reads.)"""
    events, marked = await proposed(client, task_queue, "D09", datetime(2025, 6, 2, 9, tzinfo=UTC))
    assert marked and [e["source"] for e in events] == [STAMP]
    history = await client.get_workflow_handle("cls-d09").fetch_history()
    monkeypatch.setitem(workflows.contract.PATCH_RETIREMENT, CHANGE.id, "deprecated")
    assert (await replay_history(history, sandboxed=False)).replay_failure is None
    monkeypatch.setitem(workflows.contract.PATCH_RETIREMENT, CHANGE.id, "retired")
    failure = (await replay_history(history, sandboxed=False)).replay_failure
    assert failure is not None and "Non-deprecated patch marker" in str(failure)
    # The control: the change removed from the code altogether, the history no longer replays either.
    monkeypatch.setitem(workflows.contract.PATCH_RETIREMENT, CHANGE.id, "deprecated")
    monkeypatch.setattr(domain.policy, "RULE_CHANGES", ())
    assert (await replay_history(history, sandboxed=False)).replay_failure is not None
