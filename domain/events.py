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
    Balance,
    CommitteeReview,
    Deliberation,
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


class AvenantSigned(EventBase):
    type: Literal["AvenantSigned"] = "AvenantSigned"
    avenant_id: str
    party: Party


class AvenantConcluded(EventBase):
    """Both parties signed: the avenant's amounts now apply to its year."""

    type: Literal["AvenantConcluded"] = "AvenantConcluded"
    avenant_id: str


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
    type: Literal["ContractTerminated"] = "ContractTerminated"
    reason: str
    party: Party


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
    | ExecutionReportSubmitted
    | RefactionApplied
    | MidTermEvaluationRecorded
    | ContractSuspended
    | ContractResumed
    | ContractTerminated
    | ClosingBegun
    | ContractClosed
    | DeadlineMissed,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
