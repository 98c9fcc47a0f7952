"""Time travel in the core: a contract's state as of any business date, and what changed between two dates.

Both are plain folds over the events (business time ``occurred_at``), the same fold the workflow uses; the auditors'
replay builds on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.business_time import end_of_day
from domain.events import CalendarFactWithdrawn, DeadlineMissedWithdrawn, Event
from domain.evolve import evolve
from domain.state import INITIAL_STATE, ContractState


def _cutoff(moment: date | datetime) -> datetime:
    """A date means the end of that day in Paris: "as of 30 June 2025" includes what happened on 30 June."""
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return end_of_day(moment)


def withdrawn_versions(events: Sequence[Event]) -> set[int]:
    """The versions of the facts a compensating fact of ``events`` withdrew."""
    return {e.withdrawn_version for e in events if isinstance(e, DeadlineMissedWithdrawn | CalendarFactWithdrawn)}


def state_as_of(events: Sequence[Event], moment: date | datetime, known: int | None = None) -> ContractState:
    """What was true at ``moment`` (business time), as known from the first ``known`` facts of the stream (record
    time: a stream's facts are recorded in version order); all of them by default.

    A fact withdrawn by a compensating fact that is known never counted: "what was true" does not include a missed
    deadline that was met in time after all. Known only later, it counts: that is "what we knew then"."""
    known_events = list(events if known is None else events[:known])
    withdrawn = withdrawn_versions(known_events)
    limit = _cutoff(moment)
    state = INITIAL_STATE
    for version, event in enumerate(known_events, 1):
        if version not in withdrawn and event.occurred_at <= limit:
            state = evolve(state, event, version)
    return state


class Change(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str
    before: Any
    after: Any


class Explanation(BaseModel):
    """Why the state at ``end`` differs from the state at ``start``: the events in between and the fields changed."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime
    before: ContractState
    after: ContractState
    events: list[Event]
    changes: list[Change]


_IGNORED = {"request_ids", "last_at", "version", "rewind"}


def _opening(moment: date | datetime) -> datetime:
    """A date as the first bound of a span: the start of that day in Paris (the end of the day before), so that a
    span of days holds its first day's facts — "du 1er janvier au 2 janvier" holds what happened on 1 January."""
    if isinstance(moment, datetime):
        return _cutoff(moment)
    if moment == date.min:  # no day before it (the API's schema test sent 0001-01-01: an overflow, a 500)
        return datetime.min.replace(tzinfo=UTC)
    return end_of_day(moment - timedelta(days=1))


def explain(events: Sequence[Event], start: date | datetime, end: date | datetime) -> Explanation:
    """From ``start`` to ``end`` (in either order), both business days included (Paris); a date-time is an instant."""
    if _cutoff(end) < _cutoff(start):
        start, end = end, start
    lo, hi = _opening(start), _cutoff(end)
    before = state_as_of(events, lo)
    after = state_as_of(events, hi)
    between = [e for e in events if lo < e.occurred_at <= hi]
    dumped_before = before.model_dump(mode="json")
    dumped_after = after.model_dump(mode="json")
    changes = [
        Change(field=name, before=dumped_before[name], after=dumped_after[name])
        for name in ContractState.model_fields
        if name not in _IGNORED and dumped_before[name] != dumped_after[name]
    ]
    return Explanation(start=lo, end=hi, before=before, after=after, events=between, changes=changes)
