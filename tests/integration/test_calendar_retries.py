"""The calendar's work during a store outage, on a real Temporal server (issue 27, items 2 and 3).

- A reminder whose outbox write fails is bounded and does not hold the contract's lock: commands keep their answers.
- A reminder or a calendar fact (a missed deadline, a year opening) that failed because the store did not answer is
  tried again on a short timer once the store is back — not at the next deadline, weeks later.

Business time is set by the workflow's clock offset (as ``pacte simulate`` does), so a deadline is due on a real
server without waiting for it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.commands import Command
from domain.errors import DomainError
from domain.territories import REFERENCE_TERRITORIES
from eventstore.store import EventStore
from pacte import service
from pacte.runtime import build_worker
from pacte.simulation import _command, actors_for, plan_for
from tests.integration.test_outcome_unknown import until
from workflows.contract import ContractWorkflow
from workflows.models import ContractWorkflowInput

pytestmark = pytest.mark.integration


class DownForTheCalendar:
    """The real store, except what the calendar writes while ``down``: the reminders outbox and the system's facts."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.down = False
        self.reminder_calls = 0
        self.system_failures = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def add_reminder(self, *args: Any, **kwargs: Any) -> Any:
        self.reminder_calls += 1
        if self.down:
            raise ConnectionError("connection refused")
        return await self.store.add_reminder(*args, **kwargs)

    async def append(self, stream_id: str, expected_version: int, events: Any) -> Any:
        if self.down and events and events[0].metadata["actor"]["role"] == "system":
            self.system_failures += 1
            raise ConnectionError("connection refused")
        return await self.store.append(stream_id, expected_version, events)


@pytest.fixture
async def calendar(
    temporal_env: WorkflowEnvironment, store: EventStore
) -> AsyncIterator[tuple[DownForTheCalendar, str]]:
    wrapped = DownForTheCalendar(store)
    queue = f"calendar-{uuid.uuid4().hex[:6]}"
    async with build_worker(temporal_env.client, wrapped, queue):  # type: ignore[arg-type]
        yield wrapped, queue


async def start_at(env: WorkflowEnvironment, queue: str, contract_id: str, business_now: datetime) -> None:
    offset = (business_now - await env.get_current_time()).total_seconds()
    await env.client.start_workflow(
        ContractWorkflow.run,
        ContractWorkflowInput(contract_id=contract_id, append_total_s=3, clock_offset_s=offset),
        id=contract_id,
        task_queue=queue,
    )


def proposal(territory: str, at: datetime) -> Command:
    plan = plan_for(REFERENCE_TERRITORIES[territory], seed=3, incidents=False)
    command = plan.steps[0].build(None, at)  # type: ignore[arg-type]
    assert command is not None
    return command.model_copy(update={"at": at, "request_id": str(uuid.uuid4())})


async def test_a_failing_reminder_is_bounded_and_does_not_hold_the_contract(
    temporal_env: WorkflowEnvironment, calendar: tuple[DownForTheCalendar, str], store: EventStore
) -> None:
    wrapped, queue = calendar
    territory, cid = "246700488", "cls-246700488"  # Eurométropole de Strasbourg: signature due 31 March 2024
    await start_at(temporal_env, queue, cid, datetime(2024, 2, 15, 12, tzinfo=UTC))  # its reminder is due
    wrapped.down = True
    proposed = await service.send_command(temporal_env.client, proposal(territory, datetime(2024, 2, 15, tzinfo=UTC)))

    async def reminding() -> bool:
        return wrapped.reminder_calls >= 1

    await until(reminding)
    # While the outbox cannot be written, a command is answered (it used to wait behind the reminder's endless
    # retries, holding the lock, and answer "timeout").
    first = next(iter(proposed.state.actions.values()))
    change = _command(
        "ChangeAction",
        cid,
        actors_for(REFERENCE_TERRITORIES[territory])["collectivite"],
        datetime(2024, 2, 15, 1, tzinfo=UTC),
        action=first.model_copy(update={"title": "Titre révisé"}),
    )
    try:
        changed = await service.send_command(temporal_env.client, change, answer_within_s=40)
    except DomainError as error:
        pytest.fail(f"the command waited behind the reminder: {error.code}")
    assert changed.version == proposed.version + 1
    wrapped.down = False

    async def reminded() -> bool:
        return any(r["deadline"] == "signature" for r in await store.list_reminders(cid))

    await until(reminded)  # written once the store is back, on a short timer


async def test_a_calendar_fact_that_failed_is_tried_again_soon(
    temporal_env: WorkflowEnvironment, calendar: tuple[DownForTheCalendar, str], store: EventStore
) -> None:
    wrapped, queue = calendar
    territory, cid = "244200770", "cls-244200770"  # Saint-Étienne Métropole: signature due 31 March 2024
    await start_at(temporal_env, queue, cid, datetime(2024, 4, 2, 12, tzinfo=UTC))  # the deadline has passed
    wrapped.down = True
    await service.send_command(temporal_env.client, proposal(territory, datetime(2024, 3, 30, tzinfo=UTC)))

    async def gave_up() -> bool:  # the append's bounded retries are over: the missed deadline was not recorded
        history = await temporal_env.client.get_workflow_handle(cid).fetch_history()
        return any(
            e.HasField("activity_task_timed_out_event_attributes")
            or e.HasField("activity_task_failed_event_attributes")
            for e in history.events
        )

    await until(gave_up)
    assert wrapped.system_failures >= 1
    wrapped.down = False

    async def recorded() -> bool:
        return "DeadlineMissed" in [e.event_type for e in await store.read_stream(cid)]

    # Recorded within a short retry, not at the next moment of the calendar (1 January 2025, nine months away).
    await until(recorded)
    state = await service.current_state(temporal_env.client, cid)
    assert state.missed_deadlines and state.missed_deadlines[0].due == datetime(2024, 3, 31, tzinfo=UTC).date()
