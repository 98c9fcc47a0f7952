"""Commands: what an operator (or the system) asks of a contract. One frozen class per kind, discriminated by type."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from domain.limits import MAX_ACTIONS, STORABLE_TEXT
from domain.messages import CommandBase
from domain.money import Cents
from domain.values import (
    ACTION_ID,
    DOCUMENT_NUMBER,
    Action,
    AvenantTerms,
    Count,
    Decision,
    Deliberation,
    EjNumber,
    EnvelopeMovement,
    Party,
    ShortText,
    Text,
    YearAmounts,
)

Year = Annotated[int, Field(ge=2000, le=2100)]


class ProposeContract(CommandBase):
    """The préfet proposes a contract to a territory, with its annual ceiling and optionally a first draft."""

    type: Literal["ProposeContract"] = "ProposeContract"
    territory_id: str = Field(min_length=1, max_length=20)
    annual_ceiling: Cents
    draft_actions: tuple[Action, ...] = Field(default=(), max_length=MAX_ACTIONS)
    # A later attempt names the territory's contract it follows (ended: résilié or closed; domain/attempts.py).
    replaces: str | None = Field(default=None, pattern=r"^cls-[0-9a-z]{3,9}(-[2-9])?$")


class AddAction(CommandBase):
    type: Literal["AddAction"] = "AddAction"
    action: Action


class ChangeAction(CommandBase):
    type: Literal["ChangeAction"] = "ChangeAction"
    action: Action


class RemoveAction(CommandBase):
    type: Literal["RemoveAction"] = "RemoveAction"
    action_id: str = Field(pattern=ACTION_ID)


class RecordDeliberation(CommandBase):
    type: Literal["RecordDeliberation"] = "RecordDeliberation"
    deliberation: Deliberation


class SignContract(CommandBase):
    type: Literal["SignContract"] = "SignContract"
    party: Party
    signatory: str = ShortText


class RecordCommitteeReview(CommandBase):
    type: Literal["RecordCommitteeReview"] = "RecordCommitteeReview"
    year: Year
    review_date: date
    indicator_values: dict[str, dict[str, Count]] = Field(default_factory=dict, max_length=MAX_ACTIONS)
    spending: dict[str, Cents] = Field(default_factory=dict, max_length=MAX_ACTIONS)
    findings: str = Text
    decision: Decision


class Renew(CommandBase):
    """The préfet proposes the renewal avenant for year N+1; both parties then sign it."""

    type: Literal["Renew"] = "Renew"
    year: Year
    amounts: dict[str, YearAmounts] = Field(max_length=MAX_ACTIONS)


class Amend(CommandBase):
    """Either party proposes an amendment — moving money between actions in ``year``, and/or the ``terms``: a new
    ceiling, fiches actions added, changed or removed, the ADJUST review it answers; both parties then sign it."""

    type: Literal["Amend"] = "Amend"
    amendment_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    year: Year
    amounts: dict[str, YearAmounts] = Field(default_factory=dict, max_length=MAX_ACTIONS)
    terms: AvenantTerms = AvenantTerms()
    reason: str = Text
    # The pending amendment of the same proposer this one replaces (withdrawn by it; issue 24, defect 7). Absent from
    # the stored form when empty, so the amendments recorded before keep exactly their form.
    replaces: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,60}$", exclude_if=lambda value: value is None)


class WithdrawAvenant(CommandBase):
    """The proposer of an avenant not concluded yet withdraws it, without replacing it (issue 24, defect 7)."""

    type: Literal["WithdrawAvenant"] = "WithdrawAvenant"
    avenant_id: str = Field(min_length=1, max_length=60)
    reason: str = Text


class SignAvenant(CommandBase):
    type: Literal["SignAvenant"] = "SignAvenant"
    avenant_id: str = Field(min_length=1, max_length=60)
    party: Party
    # Who signs, as for a contract. The API, the web and the CLI require it (catalogue.REQUIRED_IN_BODY); the empty
    # default is only for the updates and import lines of before it was asked, which must still replay and import.
    signatory: str = Field(default="", max_length=300, pattern=STORABLE_TEXT)


class SubmitExecutionReport(CommandBase):
    type: Literal["SubmitExecutionReport"] = "SubmitExecutionReport"
    year: Year
    etat_spent: dict[str, Cents] = Field(max_length=MAX_ACTIONS)
    collectivite_spent: dict[str, Cents] = Field(max_length=MAX_ACTIONS)


class RecordMidTermEvaluation(CommandBase):
    type: Literal["RecordMidTermEvaluation"] = "RecordMidTermEvaluation"
    evaluations: dict[str, Annotated[str, Text]] = Field(
        description="Evaluation of every action, by action id", max_length=MAX_ACTIONS
    )


class Suspend(CommandBase):
    type: Literal["Suspend"] = "Suspend"
    reason: str = Text


class Resume(CommandBase):
    type: Literal["Resume"] = "Resume"
    reason: str = Text


class Terminate(CommandBase):
    type: Literal["Terminate"] = "Terminate"
    reason: str = Text


class BeginClosing(CommandBase):
    """System: the programme has ended (after 31 December of the last year); the contract enters CLOSING."""

    type: Literal["BeginClosing"] = "BeginClosing"


class CloseContract(CommandBase):
    """The préfet closes the contract; the balance is computed, and must equal the declared reversement if given."""

    type: Literal["CloseContract"] = "CloseContract"
    declared_reversement: Cents | None = None


class OpenProgrammeYear(CommandBase):
    type: Literal["OpenProgrammeYear"] = "OpenProgrammeYear"
    year: Year


class RecordMissedDeadline(CommandBase):
    type: Literal["RecordMissedDeadline"] = "RecordMissedDeadline"
    deadline: Literal[
        "signature", "committee_review", "renewal", "execution_report", "mid_term_evaluation", "final_report"
    ]
    year: Year | None = None
    due: date


class RectifyExecutionReport(CommandBase):
    """The collectivité corrects its execution report of ``year`` (a mistyped amount): the whole report is given
    again, with the reason; the original stays in the record."""

    type: Literal["RectifyExecutionReport"] = "RectifyExecutionReport"
    year: Year
    etat_spent: dict[str, Cents] = Field(max_length=MAX_ACTIONS)
    collectivite_spent: dict[str, Cents] = Field(max_length=MAX_ACTIONS)
    reason: str = Text


class RectifySignature(CommandBase):
    """A party corrects the date its signature was recorded at; the reason names the document that proves it."""

    type: Literal["RectifySignature"] = "RectifySignature"
    party: Party
    signed_on: date
    reason: str = Text


class RecordEnvelope(CommandBase):
    """The État's envelope for one programme year of the contract moves: notified, frozen, released or cancelled,
    on its business date, with the text it comes from (a notification letter, a decree)."""

    type: Literal["RecordEnvelope"] = "RecordEnvelope"
    year: Year
    movement: EnvelopeMovement
    amount: Cents
    reference: str = ShortText


class RecordCommitment(CommandBase):
    """An engagement juridique (Chorus EJ) for a programme year, within the envelope available (AE)."""

    type: Literal["RecordCommitment"] = "RecordCommitment"
    year: Year
    ej_number: EjNumber
    amount: Cents


class RecordPayment(CommandBase):
    """A versement on a recorded engagement juridique, as one of the convention's instalments (CP)."""

    type: Literal["RecordPayment"] = "RecordPayment"
    ej_number: EjNumber
    instalment: str = Field(pattern=r"^[a-z_]{1,30}$", description="The convention's instalment (Policy.instalments)")
    amount: Cents
    document: str = Field(pattern=DOCUMENT_NUMBER, description="The payment document's number")


class IssueRecoveryOrder(CommandBase):
    """A titre de perception for a programme year: the État claims back what it paid beyond what was used."""

    type: Literal["IssueRecoveryOrder"] = "IssueRecoveryOrder"
    year: Year
    titre_number: str = Field(pattern=DOCUMENT_NUMBER, description="The titre de perception's number")
    amount: Cents


class RecordRecoveryCollected(CommandBase):
    """What the comptable collected on a titre de perception."""

    type: Literal["RecordRecoveryCollected"] = "RecordRecoveryCollected"
    titre_number: str = Field(pattern=DOCUMENT_NUMBER, description="The titre de perception's number")
    amount: Cents


Command = Annotated[
    ProposeContract
    | AddAction
    | ChangeAction
    | RemoveAction
    | RecordDeliberation
    | SignContract
    | RecordCommitteeReview
    | Renew
    | Amend
    | SignAvenant
    | WithdrawAvenant
    | SubmitExecutionReport
    | RecordMidTermEvaluation
    | Suspend
    | Resume
    | Terminate
    | BeginClosing
    | CloseContract
    | OpenProgrammeYear
    | RecordMissedDeadline
    | RectifyExecutionReport
    | RectifySignature
    | RecordEnvelope
    | RecordCommitment
    | RecordPayment
    | IssueRecoveryOrder
    | RecordRecoveryCollected,
    Field(discriminator="type"),
]

COMMAND_ADAPTER: TypeAdapter[Command] = TypeAdapter(Command)
COMMAND_TYPES: tuple[str, ...] = tuple(
    cls.model_fields["type"].default
    for cls in (
        ProposeContract,
        AddAction,
        ChangeAction,
        RemoveAction,
        RecordDeliberation,
        SignContract,
        RecordCommitteeReview,
        Renew,
        Amend,
        SignAvenant,
        WithdrawAvenant,
        SubmitExecutionReport,
        RecordMidTermEvaluation,
        Suspend,
        Resume,
        Terminate,
        BeginClosing,
        CloseContract,
        OpenProgrammeYear,
        RecordMissedDeadline,
        RectifyExecutionReport,
        RectifySignature,
        RecordEnvelope,
        RecordCommitment,
        RecordPayment,
        IssueRecoveryOrder,
        RecordRecoveryCollected,
    )
)
