"""Events: the facts recorded in the event store. One frozen class per kind, each with a schema version."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from domain.axes import TerritoryKind
from domain.messages import EventBase
from domain.money import Cents
from domain.values import (
    Action,
    AvenantKind,
    AvenantTerms,
    Balance,
    CommitteeReview,
    Deliberation,
    EnvelopeMovement,
    ExecutionReport,
    Party,
    YearAmounts,
)


class ContractProposed(EventBase):
    type: Literal["ContractProposed"] = "ContractProposed"
    territory_id: str
    territory_name: str
    kind: TerritoryKind
    region: str = ""
    departements: tuple[str, ...] = ()
    annual_ceiling: Cents
    replaces: str | None = None  # the territory's earlier contract this one follows (auditors see both)


class ActionAdded(EventBase):
    type: Literal["ActionAdded"] = "ActionAdded"
    action: Action


class ActionChanged(EventBase):
    type: Literal["ActionChanged"] = "ActionChanged"
    action: Action


class ActionRemoved(EventBase):
    type: Literal["ActionRemoved"] = "ActionRemoved"
    action_id: str


class DeliberationRecorded(EventBase):
    type: Literal["DeliberationRecorded"] = "DeliberationRecorded"
    deliberation: Deliberation


class PartySigned(EventBase):
    type: Literal["PartySigned"] = "PartySigned"
    party: Party
    signatory: str


class ContractSigned(EventBase):
    """Both parties have signed. The contract is in force from ``in_force_from`` (retroactively if signed later)."""

    type: Literal["ContractSigned"] = "ContractSigned"
    in_force_from: date


class ProgrammeYearOpened(EventBase):
    type: Literal["ProgrammeYearOpened"] = "ProgrammeYearOpened"
    year: int


class AnnualProgrammeSet(EventBase):
    type: Literal["AnnualProgrammeSet"] = "AnnualProgrammeSet"
    year: int
    amounts: dict[str, YearAmounts]


class CommitteeReviewRecorded(EventBase):
    type: Literal["CommitteeReviewRecorded"] = "CommitteeReviewRecorded"
    review: CommitteeReview


class AvenantProposed(EventBase):
    type: Literal["AvenantProposed"] = "AvenantProposed"
    avenant_id: str
    kind: AvenantKind
    year: int
    amounts: dict[str, YearAmounts]
    reason: str
    terms: AvenantTerms = AvenantTerms()


class AvenantSigned(EventBase):
    """Schema 2 names the signatory, as PartySigned does for the contract; schema 1 facts are upcast with an empty
    one (domain.upcasting: it was not asked then, and nothing may invent it)."""

    type: Literal["AvenantSigned"] = "AvenantSigned"
    schema_version: int = 2
    avenant_id: str
    party: Party
    # Absent from the stored form when empty (an import line that does not name it; the schema 1 facts a workflow
    # recorded before: workflows.contract AVENANT_SIGNATORY_PATCH), so those keep exactly their form and digest.
    signatory: str = Field(default="", exclude_if=lambda value: not value)


class AvenantConcluded(EventBase):
    """Both parties signed: the avenant's amounts now apply to its year."""

    type: Literal["AvenantConcluded"] = "AvenantConcluded"
    avenant_id: str


class AvenantWithdrawn(EventBase):
    """An avenant not concluded withdrawn by its proposer, alone or replaced by a new proposal: it no longer counts
    (its signatures neither); it stays in the record."""

    type: Literal["AvenantWithdrawn"] = "AvenantWithdrawn"
    avenant_id: str
    reason: str


class ExecutionReportSubmitted(EventBase):
    type: Literal["ExecutionReportSubmitted"] = "ExecutionReportSubmitted"
    report: ExecutionReport
    recoverable_etat: Cents = Field(description="État credits of the year unspent or unmatched by the collectivité")


class RefactionApplied(EventBase):
    """Recovered credits of a year deducted from the next year's État payment."""

    type: Literal["RefactionApplied"] = "RefactionApplied"
    from_year: int
    to_year: int
    amount: Cents


class MidTermEvaluationRecorded(EventBase):
    type: Literal["MidTermEvaluationRecorded"] = "MidTermEvaluationRecorded"
    evaluations: dict[str, str]


class ContractSuspended(EventBase):
    type: Literal["ContractSuspended"] = "ContractSuspended"
    reason: str


class ContractResumed(EventBase):
    type: Literal["ContractResumed"] = "ContractResumed"
    reason: str


class ContractTerminated(EventBase):
    """Résiliation: it settles the years run (``balance``; absent from terminations recorded before it did)."""

    type: Literal["ContractTerminated"] = "ContractTerminated"
    reason: str
    party: Party
    balance: Balance | None = None


class ClosingBegun(EventBase):
    type: Literal["ClosingBegun"] = "ClosingBegun"


class ContractClosed(EventBase):
    type: Literal["ContractClosed"] = "ContractClosed"
    balance: Balance


class DeadlineMissed(EventBase):
    """A missed deadline is itself a fact: it escalates, it cancels nothing."""

    type: Literal["DeadlineMissed"] = "DeadlineMissed"
    deadline: str
    year: int | None = None
    due: date


class DeadlineMissedWithdrawn(EventBase):
    """A compensating fact: the obligation was met in time after all (a fact recorded late, or a rectified date), or
    it no longer existed on its due date (a résiliation dated before it, a year brought to 0 € by an avenant, recorded
    late), so the missed deadline recorded at ``withdrawn_version`` on the belief that it had not been met is
    withdrawn. The withdrawn event stays in the record; it just no longer counts."""

    type: Literal["DeadlineMissedWithdrawn"] = "DeadlineMissedWithdrawn"
    deadline: str
    year: int | None = None
    due: date
    withdrawn_version: int
    # The day it was met; None: it was not owed any more (optional from issue 24 on: every older payload has it, so
    # they read unchanged, without an upcaster).
    met_on: date | None
    reason: str


class CalendarFactWithdrawn(EventBase):
    """A compensating fact: a year opening or the start of closing the calendar recorded (``withdrawn_version``) that
    a fact recorded late makes untrue (the contract was résilié before that date). It stays in the record; it just no
    longer counts."""

    type: Literal["CalendarFactWithdrawn"] = "CalendarFactWithdrawn"
    withdrawn_type: Literal["ProgrammeYearOpened", "ClosingBegun"]
    year: int | None = None
    withdrawn_version: int
    reason: str


class ExecutionReportRectified(EventBase):
    """A wrong execution report corrected: the new figures replace the ones recorded at ``rectifies_version``, the
    recoverable credits are computed again and the difference follows into the next year's réfaction."""

    type: Literal["ExecutionReportRectified"] = "ExecutionReportRectified"
    rectifies_version: int
    report: ExecutionReport
    recoverable_etat: Cents
    refaction_delta: int = Field(description="Change of the next year's réfaction, in cents (may be negative)")
    reason: str


class SignatureRectified(EventBase):
    """A signature recorded at a wrong date: the date is corrected, the signature deadline judged again."""

    type: Literal["SignatureRectified"] = "SignatureRectified"
    rectifies_version: int
    party: Party
    signed_on: date
    reason: str


class EnvelopeRecorded(EventBase):
    """The État's envelope of a programme year moved (notified, frozen, released, cancelled), by ``reference``."""

    type: Literal["EnvelopeRecorded"] = "EnvelopeRecorded"
    year: int
    movement: EnvelopeMovement
    amount: Cents
    reference: str


class CommitmentRecorded(EventBase):
    """An engagement juridique of a programme year (its Chorus number), dated by the fact's business time."""

    type: Literal["CommitmentRecorded"] = "CommitmentRecorded"
    year: int
    ej_number: str
    amount: Cents


class PaymentRecorded(EventBase):
    """A versement on an engagement juridique; ``year`` is its commitment's programme year (even when paid later)."""

    type: Literal["PaymentRecorded"] = "PaymentRecorded"
    year: int
    ej_number: str
    instalment: str
    amount: Cents
    document: str


class RecoveryOrderIssued(EventBase):
    """A titre de perception for a programme year's payments beyond what was used."""

    type: Literal["RecoveryOrderIssued"] = "RecoveryOrderIssued"
    year: int
    titre_number: str
    amount: Cents


class RecoveryCollected(EventBase):
    """An amount collected on a titre de perception (``year``: the titre's programme year)."""

    type: Literal["RecoveryCollected"] = "RecoveryCollected"
    year: int
    titre_number: str
    amount: Cents


Event = Annotated[
    ContractProposed
    | ActionAdded
    | ActionChanged
    | ActionRemoved
    | DeliberationRecorded
    | PartySigned
    | ContractSigned
    | ProgrammeYearOpened
    | AnnualProgrammeSet
    | CommitteeReviewRecorded
    | AvenantProposed
    | AvenantSigned
    | AvenantConcluded
    | AvenantWithdrawn
    | ExecutionReportSubmitted
    | RefactionApplied
    | MidTermEvaluationRecorded
    | ContractSuspended
    | ContractResumed
    | ContractTerminated
    | ClosingBegun
    | ContractClosed
    | DeadlineMissed
    | DeadlineMissedWithdrawn
    | CalendarFactWithdrawn
    | ExecutionReportRectified
    | SignatureRectified
    | EnvelopeRecorded
    | CommitmentRecorded
    | PaymentRecorded
    | RecoveryOrderIssued
    | RecoveryCollected,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

# Facts the workflow's timers record from the calendar alone; a fact recorded late may slip in before them.
TIMER_FACTS = frozenset({"ProgrammeYearOpened", "DeadlineMissed", "ClosingBegun"})
# Compensating facts: each names (``withdrawn_version``) a calendar fact that no longer counts.
WITHDRAWALS = frozenset({"DeadlineMissedWithdrawn", "CalendarFactWithdrawn"})
RECTIFICATIONS = frozenset({"ExecutionReportRectified", "SignatureRectified"})
