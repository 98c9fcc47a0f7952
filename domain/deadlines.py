"""What a contract owes, and by when: the deadlines of DOMAIN.md §4 computed from its state and the policy.

The workflow turns them into timers; a missed one becomes a DeadlineMissed event (it escalates, it cancels nothing).
Pure: the caller says what "now" is.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from domain.axes import TerritoryKind
from domain.business_time import business_date
from domain.policy import Policy
from domain.status import FINAL_STATUSES, Status
from domain.values import Avenant, AvenantKind

if TYPE_CHECKING:  # the state's own module loads the late facts, which read deadlines: no import cycle at run time
    from domain.state import ContractState


class DeadlineKind(StrEnum):
    SIGNATURE = "signature"
    COMMITTEE_REVIEW = "committee_review"
    RENEWAL = "renewal"
    EXECUTION_REPORT = "execution_report"
    MID_TERM_EVALUATION = "mid_term_evaluation"
    FINAL_REPORT = "final_report"


class Deadline(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: DeadlineKind
    year: int | None
    due: date
    reminder: date
    missed_recorded: bool = False

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.year or '-'}"


class Milestone(StrEnum):
    OPEN_YEAR = "open_year"
    BEGIN_CLOSING = "begin_closing"


class NextMilestone(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Milestone
    on: date
    year: int | None = None


def _deadline(kind: DeadlineKind, year: int | None, due: date, state: ContractState, policy: Policy) -> Deadline:
    recorded = any(m.deadline == kind.value and m.year == year for m in state.missed_deadlines)
    return Deadline(
        kind=kind,
        year=year,
        due=due,
        reminder=due - timedelta(days=policy.review_reminder_days),
        missed_recorded=recorded,
    )


def obligation_met_on(state: ContractState, kind: DeadlineKind | str, year: int | None) -> date | None:
    """The business date an obligation was met, or None: a deadline is missed when this is None or after it."""
    kind = DeadlineKind(kind)
    if kind is DeadlineKind.SIGNATURE:
        if len(state.signatures) < 2:
            return None
        return max(business_date(s.signed_at) for s in state.signatures.values())
    if kind is DeadlineKind.MID_TERM_EVALUATION:
        return state.mid_term_evaluated_on
    if year is None:
        return None
    record = state.year(year)
    if kind is DeadlineKind.COMMITTEE_REVIEW:
        return min((r.review_date for r in record.reviews), default=None)
    if kind is DeadlineKind.RENEWAL:
        return record.renewed_on if record.renewed else None
    # execution report, final report
    return business_date(record.report.submitted_at) if record.report is not None else None


def pending_deadlines(state: ContractState, policy: Policy) -> list[Deadline]:
    """Every obligation not yet met, earliest first (whether or not its date has passed)."""
    if state.status in FINAL_STATUSES or state.status is Status.NONE:
        return []
    out: list[Deadline] = []
    if state.kind is TerritoryKind.METROPOLE and len(state.signatures) < 2:
        out.append(_deadline(DeadlineKind.SIGNATURE, None, policy.metropole_signature_deadline, state, policy))
    if state.current_year is not None:
        for year in range(policy.first_year, state.current_year + 1):
            record = state.year(year)
            if not record.opened:  # a year before the signature was never executed here
                continue
            if not record.reviews:
                out.append(_deadline(DeadlineKind.COMMITTEE_REVIEW, year, policy.review_deadline(year), state, policy))
            year_over = year < state.current_year or state.status is Status.CLOSING
            if year_over and record.report is None and state.etat_total(year) > 0:
                if year == policy.last_year:
                    out.append(_deadline(DeadlineKind.FINAL_REPORT, year, policy.final_report_deadline, state, policy))
                else:
                    out.append(
                        _deadline(DeadlineKind.EXECUTION_REPORT, year, policy.report_deadline(year), state, policy)
                    )
        next_year = state.current_year + 1
        if next_year <= policy.last_year and state.status is not Status.CLOSING and not state.year(next_year).renewed:
            out.append(_deadline(DeadlineKind.RENEWAL, next_year, policy.renewal_deadline(next_year), state, policy))
        if state.mid_term_evaluation is None and state.status is not Status.CLOSING and _owes_mid_term(state, policy):
            out.append(
                _deadline(DeadlineKind.MID_TERM_EVALUATION, None, policy.mid_term_evaluation_deadline, state, policy)
            )
    out = [d for d in out if _could_be_met(d, state, policy)]
    return sorted(out, key=lambda d: (d.due, d.kind.value))


def _could_be_met(deadline: Deadline, state: ContractState, policy: Policy) -> bool:
    """A contract's deadlines follow from its own dates: one that had passed before the contract could first meet it
    — the signature's before its proposal, any other before its signature — could never be met and is not owed (a new
    attempt proposed on 1 June 2024 has not missed the métropoles' signature deadline of 31 March 2024). From
    ``order_rules`` 2 (in force on the deadline's date); the first rules recorded such a miss at once."""
    if deadline.kind is DeadlineKind.SIGNATURE:
        start = state.proposed_on
    elif len(state.signatures) >= 2:
        start = max(business_date(s.signed_at) for s in state.signatures.values())
    else:
        start = None
    if start is None or deadline.due >= start:
        return True
    return policy.in_force_on(deadline.due).order_rules < 2  # (asked last: only a late starter pays for dating it)


def _owes_mid_term(state: ContractState, policy: Policy) -> bool:
    """What a late signer owes: the obligations due once it is signed. A contract signed after the mid-term
    evaluation's deadline (30 June 2026) owes no mid-term evaluation — its actions had not started at mid-term, and a
    deadline that passed before the signature could never be met. (From ``order_rules`` 2; the first rules recorded
    it as missed.) Every other deadline of a year the signature opened falls after it."""
    due = policy.mid_term_evaluation_deadline
    if len(state.signatures) < 2 or max(business_date(s.signed_at) for s in state.signatures.values()) <= due:
        return True
    return policy.in_force_on(due).order_rules < 2  # (asked last: only a late signer pays for dating the policy)


def next_milestone(state: ContractState, policy: Policy) -> NextMilestone | None:
    """The next year boundary: open year N+1 on 1 January, or begin closing after the programme's end."""
    if state.status not in (Status.IN_EXECUTION, Status.SUSPENDED) or state.current_year is None:
        return None
    if state.current_year < policy.last_year:
        year = state.current_year + 1
        return NextMilestone(kind=Milestone.OPEN_YEAR, on=date(year, 1, 1), year=year)
    return NextMilestone(kind=Milestone.BEGIN_CLOSING, on=policy.programme_end + timedelta(days=1))


def missing_reports(state: ContractState, policy: Policy) -> list[int]:
    """The years whose execution report is still owed before the contract can be closed: opened, with État money, and
    no report in (the decider's ``closing.reports_missing``; *À traiter* offers the closure once this is empty)."""
    return [
        y for y in policy.years if state.year(y).opened and state.etat_total(y) > 0 and state.year(y).report is None
    ]


def avenant_signature_due(avenant: Avenant, policy: Policy) -> date:
    """The last day an avenant may be signed, as the decider judges it (``rules.avenants.sign_avenant``): a renewal
    for year N before N opens, that is by the renewal deadline (31 December N-1 by default); an amendment of N within
    N (a year's money is frozen once the year has ended)."""
    if avenant.kind is AvenantKind.RENEWAL:
        return policy.renewal_deadline(avenant.year)
    return date(avenant.year, 12, 31)


def avenant_signable(avenant: Avenant, state: ContractState, policy: Policy, today: date) -> bool:
    """Still open to signatures today, as the decider judges it: not concluded, its year's report not in, a renewal's
    year not opened (``renewal.too_late``), an amendment's year not over (``avenant.year_over``, the day after
    ``avenant_signature_due``)."""
    if avenant.concluded or state.year(avenant.year).report is not None:
        return False
    if avenant.kind is AvenantKind.RENEWAL:
        return state.current_year is None or avenant.year > state.current_year
    return today <= avenant_signature_due(avenant, policy)


class Standing(StrEnum):
    """How a deadline stands on a given day, as people read it: one of these, never two."""

    TO_COME = "to_come"  # not met, due today or later
    MISSED = "missed"  # not met and its date has passed (recorded as missed or not yet), or can no longer be met
    MET_LATE = "met_late"  # recorded as missed, met since


class DeadlineStanding(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: DeadlineKind
    year: int | None
    due: date
    standing: Standing
    days: int  # days left (to come) or days late (missed, met late: as of the day it was met)
    recorded: bool  # a DeadlineMissed fact is in the contract's history
    met_on: date | None = None


def deadline_standings(state: ContractState, policy: Policy, today: date) -> list[DeadlineStanding]:
    """Every deadline a reader should see, once each, earliest first: the obligations not yet met (missed once their
    date has passed, whether or not the calendar has recorded it yet) and those recorded missed that are no longer
    pending (met late, or past remedy such as a renewal for a year already opened). The single source for the
    contract page, the dashboard and each person's list of acts: none of them judges a deadline on its own."""
    rows: dict[str, DeadlineStanding] = {}
    for d in pending_deadlines(state, policy):
        missed = d.due < today
        rows[d.key] = DeadlineStanding(
            kind=d.kind,
            year=d.year,
            due=d.due,
            standing=Standing.MISSED if missed else Standing.TO_COME,
            days=(today - d.due).days if missed else (d.due - today).days,
            recorded=d.missed_recorded,
        )
    for m in state.missed_deadlines:
        kind = DeadlineKind(m.deadline)
        key = f"{kind.value}:{m.year or '-'}"
        if key in rows:
            continue
        met_on = obligation_met_on(state, kind, m.year)
        rows[key] = DeadlineStanding(
            kind=kind,
            year=m.year,
            due=m.due,
            standing=Standing.MET_LATE if met_on is not None else Standing.MISSED,
            days=((met_on or today) - m.due).days,
            recorded=True,
            met_on=met_on,
        )
    return sorted(rows.values(), key=lambda r: (r.due, r.kind.value, r.year or 0))
