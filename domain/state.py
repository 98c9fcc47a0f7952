"""The state of one contract: nothing but the fold of its events (see evolve.py)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.axes import AXES_BY_KIND, Axis, TerritoryKind
from domain.events import Event
from domain.request_log import RequestIds
from domain.values import (
    Action,
    Avenant,
    Balance,
    CommitteeReview,
    Deliberation,
    ExecutionReport,
    Party,
    Signature,
)


class Status(StrEnum):
    NONE = "NONE"  # no event yet
    PROPOSED = "PROPOSED"
    NEGOTIATING = "NEGOTIATING"
    DELIBERATED = "DELIBERATED"
    SIGNED = "SIGNED"
    IN_EXECUTION = "IN_EXECUTION"
    SUSPENDED = "SUSPENDED"
    CLOSING = "CLOSING"
    CLOSED = "CLOSED"
    TERMINATED = "TERMINATED"


FINAL_STATUSES = frozenset({Status.CLOSED, Status.TERMINATED})
NEGOTIABLE_STATUSES = frozenset({Status.PROPOSED, Status.NEGOTIATING})
RUNNING_STATUSES = frozenset({Status.IN_EXECUTION, Status.SUSPENDED})


class YearRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    opened: bool = False
    reviews: tuple[CommitteeReview, ...] = ()
    report: ExecutionReport | None = None
    recoverable_etat: int = 0  # from the execution report
    refaction: int = 0  # deducted from this year's État payment (from the previous year's report)
    renewed: bool = False  # a renewal avenant for this year was concluded
    renewed_on: date | None = None  # business date of that conclusion
    report_version: int = 0  # the stream version of the report's fact (what a rectification names)
    adjusted_by: tuple[str, ...] = ()  # the amendments answering this year's ADJUST review


class MissedDeadline(BaseModel):
    model_config = ConfigDict(frozen=True)

    deadline: str
    year: int | None
    due: date
    version: int = 0  # the stream version of the DeadlineMissed fact (what a withdrawal names)


class ContractState(BaseModel):
    model_config = ConfigDict(frozen=True)

    contract_id: str = ""
    status: Status = Status.NONE
    territory_id: str = ""
    territory_name: str = ""
    kind: TerritoryKind | None = None
    region: str = ""
    departements: tuple[str, ...] = ()
    annual_ceiling: int = 0
    replaces: str | None = None  # the territory's earlier contract (terminated before signature) this one follows
    actions: dict[str, Action] = Field(default_factory=dict)
    deliberation: Deliberation | None = None
    signatures: dict[Party, Signature] = Field(default_factory=dict)
    in_force_from: date | None = None
    current_year: int | None = None
    years: dict[int, YearRecord] = Field(default_factory=dict)
    avenants: dict[str, Avenant] = Field(default_factory=dict)
    mid_term_evaluation: dict[str, str] | None = None
    mid_term_evaluated_on: date | None = None
    terms_changed_on: date | None = None  # business date of the last change of the contract's text (actions)
    suspension_reason: str | None = None
    termination_reason: str | None = None
    missed_deadlines: tuple[MissedDeadline, ...] = ()
    balance: Balance | None = None
    version: int = 0  # number of events folded
    last_at: datetime | None = None  # business time of the last event
    request_ids: RequestIds = Field(default_factory=RequestIds)
    # The facts the timers recorded since the last operator's fact, and the state before them: a fact recorded late
    # (business time before them) is folded where it belongs in business time, then the timers' facts after it.
    rewind: Rewind | None = None

    @property
    def axes(self) -> tuple[Axis, ...]:
        return AXES_BY_KIND[self.kind] if self.kind else ()

    def year(self, year: int) -> YearRecord:
        return self.years.get(year, YearRecord())

    @property
    def first_year(self) -> int | None:
        """The first programme year the contract ran (the one its signature opened)."""
        return min((y for y, r in self.years.items() if r.opened), default=None)

    def etat_total(self, year: int, actions: dict[str, Action] | None = None) -> int:
        pool = self.actions if actions is None else actions
        return sum(a.amounts[year].etat for a in pool.values() if year in a.amounts)


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


ContractState.model_rebuild()
INITIAL_STATE = ContractState()
