"""The service's Temporal Schedules: the nightly verify of the event store (taking a signed anchor) and the relay of
the reminders outbox. ``ensure_schedules`` creates them when absent (at `pacte worker` and `pacte dev` start: a
second start creates nothing) and brings an existing one's action and times to this version's, keeping its state
(an operator's pause stays); ``describe_schedules`` is what `pacte schedules` prints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from workflows.operations import ReminderRelayWorkflow, StoreVerifyWorkflow

STORE_VERIFY = "pacte-store-verify"
REMINDER_RELAY = "pacte-reminder-relay"


@dataclass(frozen=True)
class Planned:
    id: str
    workflow: str
    spec: ScheduleSpec
    note: str


PLANNED = (
    Planned(
        STORE_VERIFY,
        StoreVerifyWorkflow.__name__,
        # 02:30 in Paris, every night: after the day's work, before the morning's.
        ScheduleSpec(
            calendars=[ScheduleCalendarSpec(hour=[ScheduleRange(2)], minute=[ScheduleRange(30)])],
            time_zone_name="Europe/Paris",
        ),
        "nightly verify of the event store's hash chain against the last anchor, then a new signed anchor",
    ),
    Planned(
        REMINDER_RELAY,
        ReminderRelayWorkflow.__name__,
        ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(minutes=15))]),
        "relay of the reminders outbox: reminders due and not yet sent",
    ),
)


def _schedule(planned: Planned, task_queue: str, state: ScheduleState | None = None) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            planned.workflow,
            id=planned.id,  # each run's id is this one with the scheduled time appended
            task_queue=task_queue,
            execution_timeout=timedelta(hours=3),
        ),
        spec=planned.spec,
        # One at a time (a verify still running at the next night's is not doubled); a worker down for a while
        # catches up once, not with every missed run.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(hours=1)),
        state=state or ScheduleState(note=planned.note),
    )


async def ensure_schedules(client: Client, task_queue: str) -> list[str]:
    """Create the schedules that are missing (returns their ids); update the others' action and times to this
    version's, their state (paused or not, note) kept."""
    created = []
    for planned in PLANNED:
        try:
            await client.create_schedule(planned.id, _schedule(planned, task_queue))
            created.append(planned.id)
        except ScheduleAlreadyRunningError:

            def update(found: ScheduleUpdateInput, planned: Planned = planned) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=_schedule(planned, task_queue, found.description.schedule.state))

            await client.get_schedule_handle(planned.id).update(update)
    return created


class ScheduleView(BaseModel):
    id: str
    workflow: str
    note: str | None
    paused: bool
    runs: int
    last_run: datetime | None
    last_workflow_id: str | None
    next_runs: list[datetime]


async def describe_schedules(client: Client) -> list[ScheduleView]:
    """Each of the service's schedules as Temporal describes it (absent ones are left out)."""
    views = []
    for planned in PLANNED:
        try:
            found = await client.get_schedule_handle(planned.id).describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                continue
            raise
        recent = found.info.recent_actions
        views.append(
            ScheduleView(
                id=planned.id,
                workflow=planned.workflow,
                note=found.schedule.state.note,
                paused=found.schedule.state.paused,
                runs=found.info.num_actions,
                last_run=recent[-1].started_at if recent else None,
                last_workflow_id=recent[-1].action.workflow_id if recent else None,
                next_runs=list(found.info.next_action_times[:3]),
            )
        )
    return views
