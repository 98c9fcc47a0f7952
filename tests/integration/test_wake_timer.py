"""The contract's wake timer is re-armed only when its next wake changes (issue 27, item 10), on a real Temporal server:
an operator's update that leaves the calendar as it was cancels no timer (the recorded histories held 41 cancels
for 48 updates: a timer cancelled and started again, in the history, at nearly every command).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.territories import REFERENCE_TERRITORIES
from pacte import service
from pacte.simulation import _command, actors_for, plan_for
from workflows.contract import ContractWorkflow
from workflows.models import ContractWorkflowInput

pytestmark = pytest.mark.integration

TERRITORY, CID = "248300543", "cls-248300543"  # Métropole Toulon Provence Méditerranée


async def test_updates_that_leave_the_calendar_alone_cancel_no_timer(
    temporal_env: WorkflowEnvironment, client: Client, task_queue: str
) -> None:
    # Business time 10 January 2024: the signature's reminder (31 January) is the next wake, weeks ahead.
    business = datetime(2024, 1, 10, 12, tzinfo=UTC)
    offset = (business - await temporal_env.get_current_time()).total_seconds()
    await client.start_workflow(
        ContractWorkflow.run,
        ContractWorkflowInput(contract_id=CID, clock_offset_s=offset),
        id=CID,
        task_queue=task_queue,
    )
    plan = plan_for(REFERENCE_TERRITORIES[TERRITORY], seed=5, incidents=False)
    at = datetime(2024, 1, 9, tzinfo=UTC)
    proposal = plan.steps[0].build(None, at)  # type: ignore[arg-type]
    assert proposal is not None
    state = (await service.send_command(client, proposal.model_copy(update={"at": at}))).state
    assert state is not None
    first = next(iter(state.actions.values()))
    collectivite = actors_for(REFERENCE_TERRITORIES[TERRITORY])["collectivite"]
    before = len((await client.get_workflow_handle(CID).fetch_history()).events)
    for n in range(4):
        command = _command(
            "ChangeAction",
            CID,
            collectivite,
            at + timedelta(hours=1),
            action=first.model_copy(update={"title": f"T{n}"}),
        ).model_copy(update={"request_id": str(uuid.uuid4())})
        result = await service.send_command(client, command)
        assert [e["type"] for e in result.events] == ["ActionChanged"]
    history = (await client.get_workflow_handle(CID).fetch_history()).events[before:]
    cancels = sum(e.HasField("timer_canceled_event_attributes") for e in history)
    started = sum(e.HasField("timer_started_event_attributes") for e in history)
    assert (cancels, started) == (0, 0)
