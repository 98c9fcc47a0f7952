"""The calendar's own facts: what the passing of time records on a contract (a missed deadline, a year opening,
closing), and at which business time. Pure: the caller says what "now" is.

The workflow's timers and the import of a contract's history both go through here, so a contract entered late holds
the very facts, at the very business times, that its workflow would have recorded had it run all along: each fact is
stamped with the moment it is about (midnight in Paris on the day after a deadline, on 1 January), not the moment a
timer happened to run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.actors import SYSTEM_ACTOR
from domain.business_time import business_date, start_of_day
from domain.commands import COMMAND_ADAPTER, Command
from domain.deadlines import Deadline, Milestone, next_milestone, pending_deadlines
from domain.errors import DomainError
from domain.events import Event
from domain.evolve import evolve
from domain.policy import Policy
from domain.state import ContractState


class CalendarFact(BaseModel):
    model_config = ConfigDict(frozen=True)

    command_type: str
    key: str  # unique per contract: the request id is derived from it, so a rerun records it once
    at: datetime
    fields: dict[str, Any] = {}

    def command(self, contract_id: str) -> Command:
        return COMMAND_ADAPTER.validate_python(
            {
                "type": self.command_type,
                "contract_id": contract_id,
                "actor": SYSTEM_ACTOR,
                "request_id": f"system:{contract_id}:{self.key}",
                "at": self.at,
                **self.fields,
            }
        )


def _nominal(moment: datetime, state: ContractState) -> datetime:
    """Never before the contract's last fact: history is not back-dated under facts already recorded."""
    return max(moment, state.last_at) if state.last_at is not None else moment


def missed_deadlines_due(state: ContractState, policy: Policy, now: datetime) -> list[CalendarFact]:
    """Every deadline passed by ``now`` whose miss is not recorded yet, earliest first."""
    today = business_date(now)
    return [
        CalendarFact(
            command_type="RecordMissedDeadline",
            key=f"missed:{d.key}",
            at=_nominal(start_of_day(d.due + timedelta(days=1)), state),
            fields={"deadline": d.kind.value, "year": d.year, "due": d.due},
        )
        for d in pending_deadlines(state, policy)
        if today > d.due and not d.missed_recorded
    ]


def milestone_due(state: ContractState, policy: Policy, now: datetime) -> CalendarFact | None:
    """The year boundary (or the programme's end) if ``now`` has reached it."""
    milestone = next_milestone(state, policy)
    if milestone is None or milestone.on > business_date(now):
        return None
    at = _nominal(start_of_day(milestone.on), state)
    if milestone.kind is Milestone.OPEN_YEAR:
        return CalendarFact(
            command_type="OpenProgrammeYear", key=f"open:{milestone.year}", at=at, fields={"year": milestone.year}
        )
    return CalendarFact(command_type="BeginClosing", key="closing", at=at)


def reminders_due(state: ContractState, policy: Policy, now: datetime, reminded: Sequence[str]) -> list[Deadline]:
    today = business_date(now)
    return [d for d in pending_deadlines(state, policy) if d.reminder <= today <= d.due and d.key not in reminded]


def next_wake(state: ContractState, policy: Policy, now: datetime, reminded: Sequence[str]) -> datetime | None:
    """The next moment the calendar has something to do: a reminder, the day after a deadline, a year boundary."""
    moments: list[datetime] = []
    milestone = next_milestone(state, policy)
    if milestone is not None:
        moments.append(start_of_day(milestone.on))
    for deadline in pending_deadlines(state, policy):
        if not deadline.missed_recorded:
            moments.append(start_of_day(deadline.due + timedelta(days=1)))
        if deadline.key not in reminded:
            moments.append(start_of_day(deadline.reminder))
    future = [m for m in moments if m > now]
    return min(future) if future else None


def calendar_until(
    state: ContractState, policy: Policy, now: datetime, decide_one: Any
) -> tuple[list[Event], ContractState]:
    """Every calendar fact due by ``now``, decided one after the other (``decide_one(command, state)``) as the
    workflow's timers would have recorded them. A refused fact stops the walk: the rules said no, and a later
    command will be judged on the state as it is."""
    events: list[Event] = []
    while True:
        # In the order of the calendar: the earliest first; on the same moment, a missed deadline before the year
        # boundary (as the workflow does at each wake-up).
        due = [(f.at, 0, f) for f in missed_deadlines_due(state, policy, now)]
        milestone = milestone_due(state, policy, now)
        if milestone is not None:
            due.append((milestone.at, 1, milestone))
        if not due:
            return events, state
        fact = min(due, key=lambda d: (d[0], d[1]))[2]
        try:
            decided = decide_one(fact.command(state.contract_id), state)
        except DomainError:
            return events, state
        if not decided:
            return events, state
        for event in decided:
            state = evolve(state, event)
        events.extend(decided)
