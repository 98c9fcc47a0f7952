"""Facts recorded late: a fact whose business date is before facts the calendar has already recorded.

The workflow's timers record the calendar's facts on their own dates (a year opens at midnight on 1 January, a
deadline is missed the day after it). An operator may then type a fact that happened before them: the committee of
15 December typed on 5 January, after the year opened. Such a fact is

- decided on the state as it stood on its date, and the calendar's facts after it must still hold (`decide_late`);
  only the calendar's facts may be preceded so, never people's facts (`may_precede_calendar`);
- folded where it belongs in business time, the calendar's facts after it folded again on top (`refolded`), so the
  state is the same as if every fact had been recorded on its day;
- a deadline it met in time is withdrawn by a compensating fact that names it, never deleted (`withdrawals`);
- from rules version 2 (``Policy.order_rules``, issue 24), a calendar fact after it that the rules would no longer
  record on the state as it now stands (a miss no longer owed, a year opening after a résiliation) is withdrawn by a
  compensating fact too (`decide_late`), and folding that withdrawal folds the calendar's facts again without it
  (`unfolded`).

The state keeps what this needs, and only that (`Rewind`, the state's ``rewind`` field): the calendar's
facts since the last operator's fact and what they changed. The fold of one fact and the rules' handler are given by
the callers (evolve.py, decider.py): this module is loaded with the state, before them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from domain.actors import SYSTEM_ACTOR, Role
from domain.business_time import business_date
from domain.commands import COMMAND_ADAPTER, Command
from domain.deadlines import obligation_met_on
from domain.errors import DomainError, LifecycleViolation
from domain.events import (
    TIMER_FACTS,
    WITHDRAWALS,
    CalendarFactWithdrawn,
    DeadlineMissed,
    DeadlineMissedWithdrawn,
    Event,
    ProgrammeYearOpened,
)
from domain.messages import event_fields
from domain.policy import Policy
from domain.status import Status
from domain.values import MissedDeadline

if TYPE_CHECKING:
    from domain.state import ContractState

# The fold of one fact stored at a given stream version (evolve.py's), and a rule's handler (domain/rules').
FoldFact = Callable[["ContractState", Event, int], "ContractState"]
Handle = Callable[[Command, "ContractState", Policy], list[Event]]

# The calendar's facts and the command that records each: re-checked after a fact recorded before them.
_TIMER_COMMANDS = {
    "ProgrammeYearOpened": "OpenProgrammeYear",
    "ClosingBegun": "BeginClosing",
    "DeadlineMissed": "RecordMissedDeadline",
}


def is_timer_fact(event: Event) -> bool:
    """A fact the workflow's timers recorded from the calendar alone (a year opening, a missed deadline, closing)."""
    return event.actor.role is Role.SYSTEM and event.type in TIMER_FACTS


class TimerFact(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: int  # its stream version: folded again after a late fact, it keeps it
    event: Event


class Rewind(BaseModel):
    """The calendar's facts since the last operator's fact, and what they changed — only what they change (status,
    current year, opened years, missed deadlines, last time), so the state never carries a copy of itself."""

    model_config = ConfigDict(frozen=True)

    status: Status
    current_year: int | None
    year_keys: tuple[int, ...]
    opened_years: tuple[int, ...]
    missed_deadlines: tuple[MissedDeadline, ...]
    last_at: datetime | None
    version: int
    timer_facts: tuple[TimerFact, ...]

    @classmethod
    def before(cls, state: ContractState) -> Rewind:
        return cls(
            status=state.status,
            current_year=state.current_year,
            year_keys=tuple(state.years),
            opened_years=tuple(y for y, r in state.years.items() if r.opened),
            missed_deadlines=state.missed_deadlines,
            last_at=state.last_at,
            version=state.version,
            timer_facts=(),
        )

    def restore(self, state: ContractState) -> ContractState:
        """``state`` as it was before the calendar's facts (no operator's fact came after them)."""
        years = {
            y: r.model_copy(update={"opened": y in self.opened_years})
            for y, r in state.years.items()
            if y in self.year_keys
        }
        return state.model_copy(
            update={
                "status": self.status,
                "current_year": self.current_year,
                "years": years,
                "missed_deadlines": self.missed_deadlines,
                "last_at": self.last_at,
                "version": self.version,
                "rewind": None,
            }
        )


# --- folding (evolve) ------------------------------------------------------------------------------------------------


def noted(state: ContractState, event: Event, version: int) -> dict[str, Any]:
    """The part of folding ``event`` that keeps the record: a calendar fact is kept with its version; a withdrawal
    takes the fact it withdraws out of it; any operator's fact clears it (nothing before it can be rewound)."""
    if is_timer_fact(event):
        rewind = state.rewind or Rewind.before(state)
        return {
            "rewind": rewind.model_copy(
                update={"timer_facts": (*rewind.timer_facts, TimerFact(version=version, event=event))}
            )
        }
    if isinstance(event, DeadlineMissedWithdrawn | CalendarFactWithdrawn):
        if state.rewind is None:
            return {}
        # A withdrawn fact is not folded again after a later late fact.
        kept = tuple(f for f in state.rewind.timer_facts if f.version != event.withdrawn_version)
        still = tuple(m for m in state.rewind.missed_deadlines if m.version != event.withdrawn_version)
        # A withdrawn fact no longer dates the contract: a fact between it and the one before it is in order.
        moments = [m for m in (state.rewind.last_at, event.occurred_at) if m is not None]
        return {
            "rewind": state.rewind.model_copy(update={"timer_facts": kept, "missed_deadlines": still})
            if kept
            else None,
            "last_at": max([*moments, *(f.event.occurred_at for f in kept)]),
        }
    return {"rewind": None}


def is_late(state: ContractState, event: Event) -> bool:
    """Whether ``event`` is a fact recorded late: an operator's fact dated before calendar facts already folded."""
    rewind = state.rewind
    return (
        rewind is not None
        and not is_timer_fact(event)
        and event.type not in WITHDRAWALS
        and any(f.event.occurred_at > event.occurred_at for f in rewind.timer_facts)
    )


def refolded(state: ContractState, event: Event, version: int, fold_fact: FoldFact) -> ContractState:
    """A fact recorded late folded where it belongs in business time, the calendar's facts after it again on top."""
    assert state.rewind is not None
    out = fold_fact(rewound(state, event.occurred_at, fold_fact), event, version)
    for fact in state.rewind.timer_facts:
        if fact.event.occurred_at > event.occurred_at:
            out = fold_fact(out, fact.event, fact.version)
    return out.model_copy(
        update={
            "version": version,
            "request_ids": state.request_ids.add(event.request_id),
            "last_at": max(state.last_at or event.occurred_at, event.occurred_at),
        }
    )


def unfolded(state: ContractState, event: CalendarFactWithdrawn, version: int, fold_fact: FoldFact) -> ContractState:
    """A year opening or closing withdrawn: the state as if the calendar had never recorded it — the calendar's facts
    since the last operator's fact folded again without it. (Where the state no longer holds it, nothing is undone:
    evolve is total.)"""
    kept = fold_fact(state, event, version)  # the record: its version, its request, the calendar's facts without it
    rewind = state.rewind
    if rewind is None or all(f.version != event.withdrawn_version for f in rewind.timer_facts):
        return kept
    out = rewind.restore(state)
    for fact in rewind.timer_facts:
        if fact.version != event.withdrawn_version:
            out = fold_fact(out, fact.event, fact.version)
    return out.model_copy(
        update={"version": version, "request_ids": kept.request_ids, "last_at": kept.last_at, "rewind": kept.rewind}
    )


def rewound(state: ContractState, moment: datetime, fold_fact: FoldFact) -> ContractState:
    """The state as it stood at ``moment``, under the calendar's facts recorded since the last operator's fact: those
    after ``moment`` taken off, each fact keeping its stream version. The state itself when there are none."""
    rewind = state.rewind
    if rewind is None:
        return state
    out = rewind.restore(state)
    for fact in rewind.timer_facts:
        if fact.event.occurred_at <= moment:
            out = fold_fact(out, fact.event, fact.version)
    return out


# --- deciding (decide) -----------------------------------------------------------------------------------------------


def may_precede_calendar(state: ContractState, moment: datetime) -> bool:
    """Only the calendar's facts were recorded after ``moment``: history is not rewritten under people's facts."""
    bound = earliest_moment(state)  # the bound a refusal quotes
    return state.rewind is not None and (bound is None or moment >= bound)


def earliest_moment(state: ContractState) -> datetime | None:
    """The earliest business time a new fact may be dated at — the bound ``may_precede_calendar`` and the decider
    apply, so the one a refusal quotes: the last people's fact when only the calendar's facts came after it (a fact
    recorded late may precede those), else the contract's last fact (None: any date)."""
    if state.rewind is not None:
        return state.rewind.last_at
    return state.last_at


def decide_late(
    command: Command, state: ContractState, policy: Policy, handle: Handle, fold_fact: FoldFact
) -> list[Event]:
    """A fact recorded after the calendar's facts of later dates: decided on the state as it stood on its date, then
    each of the calendar's facts after it judged again on the state as it now stands at that fact's date.

    Under the first rules (``policy.order_rules`` 1), a year opening or closing the fact would undo refuses it and the
    missed deadlines after it are kept as they were. From version 2, a calendar fact the rules would no longer record
    is withdrawn by a compensating fact — a missed deadline whose obligation no longer existed on its due date (a
    résiliation dated before it, a year brought to 0 €), a year opening or closing after a résiliation — while a miss
    still owed stays (a renewal not signed by its date is missed, whatever ended the contract later). A deadline the
    fact met in time is withdrawn by decide, as for any command (``withdrawals``)."""
    before = rewound(state, command.at, fold_fact)
    events = handle(command, before, policy)
    after = before
    for event in events:
        after = fold_fact(after, event, after.version + 1)
    assert state.rewind is not None
    withdrawn: list[Event] = []
    for fact in state.rewind.timer_facts:
        event = fact.event
        if event.occurred_at <= command.at:
            continue
        if policy.order_rules < 2 and isinstance(event, DeadlineMissed):
            after = fold_fact(after, event, fact.version)  # version 1: a miss after a late fact was not judged again
            continue
        refusal = _refusal(command, event, after, policy, handle)
        if refusal is None:
            after = fold_fact(after, event, fact.version)
        elif policy.order_rules < 2:
            raise LifecycleViolation(
                f"occurred_at: recorded as of {business_date(command.at)}, this {command.type} would undo what "
                f"the calendar recorded on {business_date(event.occurred_at)} ({event.type}: {refusal.message}); "
                "record it as of today instead",
                field="occurred_at",
                rule="date.undoes_calendar",
                params={"date": str(business_date(command.at)), "calendar_date": str(business_date(event.occurred_at))},
            )
        else:
            withdrawn.append(_withdrawal(command, fact, refusal))
    return events + withdrawn


def _refusal(
    command: Command, event: Event, state: ContractState, policy: Policy, handle: Handle
) -> DomainError | None:
    """Why the rules would not record the calendar's ``event`` on ``state`` (the state as it now stands at its
    date), or None when they still would."""
    kind = _TIMER_COMMANDS[event.type]
    fields: dict[str, Any] = {}
    if isinstance(event, ProgrammeYearOpened):
        fields = {"year": event.year}
    elif isinstance(event, DeadlineMissed):
        met = obligation_met_on(state, event.deadline, event.year)
        if met is not None and met <= event.due:
            return None  # met in time: withdrawn as met, with its date, by ``withdrawals``
        fields = {"deadline": event.deadline, "year": event.year, "due": event.due}
    try:
        handle(_system_command(command, kind, event.occurred_at, fields), state, policy)
    except DomainError as error:
        return error
    return None


def _withdrawal(command: Command, fact: TimerFact, refusal: DomainError) -> Event:
    event = fact.event
    why = (
        f"recorded late as of {business_date(command.at)}, {command.type} makes the calendar's fact of "
        f"{business_date(event.occurred_at)} untrue ({refusal.message})"
    )
    if isinstance(event, DeadlineMissed):
        return DeadlineMissedWithdrawn(
            **event_fields(command),
            deadline=event.deadline,
            year=event.year,
            due=event.due,
            withdrawn_version=fact.version,
            met_on=None,
            reason=f"{event.deadline} no longer owed on {event.due}: {why}",
        )
    return CalendarFactWithdrawn(
        **event_fields(command),
        withdrawn_type="ProgrammeYearOpened" if isinstance(event, ProgrammeYearOpened) else "ClosingBegun",
        year=event.year if isinstance(event, ProgrammeYearOpened) else None,
        withdrawn_version=fact.version,
        reason=why,
    )


def _system_command(command: Command, kind: str, at: datetime, fields: dict[str, Any]) -> Command:
    return COMMAND_ADAPTER.validate_python(
        {"type": kind, "contract_id": command.contract_id, "actor": SYSTEM_ACTOR, "request_id": "recheck", "at": at}
        | fields
    )


def withdrawals(command: Command, after: ContractState, policy: Policy) -> list[Event]:
    """Compensating facts: each missed deadline whose obligation, as now recorded, was met on or before its due date
    (a fact recorded late, a rectified date) is withdrawn. Never deleted: the withdrawal names the fact it withdraws."""
    out: list[Event] = []
    for missed in after.missed_deadlines:
        met = obligation_met_on(after, missed.deadline, missed.year)
        if met is not None and met <= missed.due:
            out.append(
                DeadlineMissedWithdrawn(
                    **event_fields(command),
                    deadline=missed.deadline,
                    year=missed.year,
                    due=missed.due,
                    withdrawn_version=missed.version,
                    met_on=met,
                    reason=f"{missed.deadline} met on {met}, by {missed.due}: recorded after the deadline was "
                    "thought missed",
                )
            )
    return out
