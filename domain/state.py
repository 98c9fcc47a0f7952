"""The state of one contract: nothing but the fold of its events (see evolve.py)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.axes import AXES_BY_KIND, Axis, TerritoryKind
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


class MissedDeadline(BaseModel):
    model_config = ConfigDict(frozen=True)

    deadline: str
    year: int | None
    due: date


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
    actions: dict[str, Action] = Field(default_factory=dict)
    deliberation: Deliberation | None = None
    signatures: dict[Party, Signature] = Field(default_factory=dict)
    in_force_from: date | None = None
    current_year: int | None = None
    years: dict[int, YearRecord] = Field(default_factory=dict)
    avenants: dict[str, Avenant] = Field(default_factory=dict)
    mid_term_evaluation: dict[str, str] | None = None
    suspension_reason: str | None = None
    termination_reason: str | None = None
    missed_deadlines: tuple[MissedDeadline, ...] = ()
    balance: Balance | None = None
    version: int = 0  # number of events folded
    last_at: datetime | None = None  # business time of the last event
    request_ids: RequestIds = Field(default_factory=RequestIds)

    @property
    def axes(self) -> tuple[Axis, ...]:
        return AXES_BY_KIND[self.kind] if self.kind else ()

    def year(self, year: int) -> YearRecord:
        return self.years.get(year, YearRecord())

    def etat_total(self, year: int, actions: dict[str, Action] | None = None) -> int:
        pool = self.actions if actions is None else actions
        return sum(a.amounts[year].etat for a in pool.values() if year in a.amounts)


INITIAL_STATE = ContractState()
