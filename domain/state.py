"""The state of one contract: nothing but the fold of its events (see evolve.py)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from domain.axes import AXES_BY_KIND, Axis, TerritoryKind
from domain.late_facts import Rewind, TimerFact
from domain.limits import (
    MAX_COMMITMENTS_PER_YEAR,
    MAX_ENVELOPE_MOVEMENTS,
    MAX_PAYMENTS_PER_YEAR,
    MAX_REVIEWS_PER_YEAR,
    MAX_TITRES_PER_YEAR,
)
from domain.request_log import RequestIds
from domain.status import (
    FINAL_STATUSES,
    LIVE_STATUSES,
    NEGOTIABLE_STATUSES,
    RUNNING_STATUSES,
    SIGNED_STATUSES,
    Status,
)
from domain.values import (
    Action,
    Avenant,
    Balance,
    Commitment,
    CommitteeReview,
    Deliberation,
    ExecutionReport,
    MissedDeadline,
    Party,
    Payment,
    Signature,
    Titre,
)


class YearRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    opened: bool = False
    reviews: tuple[CommitteeReview, ...] = Field(default=(), max_length=MAX_REVIEWS_PER_YEAR)  # published bound
    report: ExecutionReport | None = None
    recoverable_etat: int = 0  # from the execution report
    refaction: int = 0  # deducted from this year's État payment (from the previous year's report)
    renewed: bool = False  # a renewal avenant for this year was concluded
    renewed_on: date | None = None  # business date of that conclusion
    report_version: int = 0  # the stream version of the report's fact (what a rectification names)
    adjusted_by: tuple[str, ...] = ()  # the amendments answering this year's ADJUST review
    # The money trail (issue 30): the État's envelope (notified, frozen, cancelled), commitments and payments.
    envelope_notified: int = 0
    envelope_frozen: int = 0
    envelope_cancelled: int = 0
    envelope_movements: int = Field(default=0, le=MAX_ENVELOPE_MOVEMENTS)
    commitments: tuple[Commitment, ...] = Field(default=(), max_length=MAX_COMMITMENTS_PER_YEAR)
    payments: tuple[Payment, ...] = Field(default=(), max_length=MAX_PAYMENTS_PER_YEAR)
    titres: tuple[Titre, ...] = Field(default=(), max_length=MAX_TITRES_PER_YEAR)  # titres de perception

    @property
    def envelope_available(self) -> int:
        """What the État can spend this year: notified, less what is frozen or cancelled (AE)."""
        return self.envelope_notified - self.envelope_frozen - self.envelope_cancelled

    @property
    def committed(self) -> int:
        return sum(c.amount for c in self.commitments)

    @property
    def paid(self) -> int:
        return sum(p.amount for p in self.payments)

    @property
    def claimed(self) -> int:
        return sum(t.amount for t in self.titres)

    @property
    def recovered(self) -> int:
        return sum(t.collected for t in self.titres)

    def paid_on(self, ej_number: str) -> int:
        return sum(p.amount for p in self.payments if p.ej_number == ej_number)


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
    replaces: str | None = None  # the territory's earlier contract (ended: domain/attempts.py) this one follows
    proposed_on: date | None = None  # business date of its proposal: its own deadlines follow from it (deadlines.py)
    actions: dict[str, Action] = Field(default_factory=dict)
    deliberation: Deliberation | None = None
    signatures: dict[Party, Signature] = Field(default_factory=dict)
    in_force_from: date | None = None
    current_year: int | None = None
    years: dict[int, YearRecord] = Field(default_factory=dict)
    avenants: dict[str, Avenant] = Field(default_factory=dict)
    withdrawn_avenants: tuple[str, ...] = ()  # ids of avenants withdrawn by their proposer (an amendment's stays used)
    mid_term_evaluation: dict[str, str] | None = None
    mid_term_evaluated_on: date | None = None
    terms_changed_on: date | None = None  # business date of the last change of the contract's text (actions)
    suspension_reason: str | None = None
    termination_reason: str | None = None
    # Business date of its résiliation or closing: a territory's next attempt starts on or after it (domain/attempts.py).
    ended_on: date | None = None
    missed_deadlines: tuple[MissedDeadline, ...] = ()
    # The earliest business date a fact relied on the contract being signed (a committee review held, an avenant, a
    # report, a suspension, the mid-term evaluation): a rectified signature may not move after it (issue 24).
    signature_relied_on: date | None = None
    balance: Balance | None = None
    version: int = 0  # number of events folded
    last_at: datetime | None = None  # business time of the last event
    request_ids: RequestIds = Field(default_factory=RequestIds)
    # The facts the timers recorded since the last operator's fact, and the state before them: a fact recorded late
    # (business time before them) is folded where it belongs in business time, then the timers' facts after it
    # (domain/late_facts.py).
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

    def commitment(self, ej_number: str) -> tuple[int, Commitment] | None:
        """The programme year and the commitment of a Chorus EJ number, if recorded."""
        for year, record in sorted(self.years.items()):
            for c in record.commitments:
                if c.ej_number == ej_number:
                    return year, c
        return None

    def titre(self, number: str) -> tuple[int, Titre] | None:
        """The programme year and the titre de perception of a number, if issued."""
        for year, record in sorted(self.years.items()):
            for t in record.titres:
                if t.number == number:
                    return year, t
        return None

    def etat_total(self, year: int, actions: dict[str, Action] | None = None) -> int:
        pool = self.actions if actions is None else actions
        return sum(a.amounts[year].etat for a in pool.values() if year in a.amounts)


INITIAL_STATE = ContractState()  # the decider's initial state: no fact yet (Status.NONE)

# Where they were defined before: the state's module still names them for its readers.
__all__ = [
    "FINAL_STATUSES",
    "INITIAL_STATE",
    "LIVE_STATUSES",
    "NEGOTIABLE_STATUSES",
    "RUNNING_STATUSES",
    "SIGNED_STATUSES",
    "ContractState",
    "MissedDeadline",
    "Rewind",
    "Status",
    "TimerFact",
    "YearRecord",
]
