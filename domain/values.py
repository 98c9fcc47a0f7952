"""Value objects of a contract: fiches actions, yearly amounts, indicators, reviews, reports, avenants."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from domain.axes import Axis
from domain.limits import MAX_ACTIONS, MAX_AVENANT_ACTIONS, MAX_COUNT, MAX_INDICATORS, STORABLE_TEXT
from domain.money import Cents

ACTION_ID = r"^[A-Z0-9][A-Z0-9_-]{0,19}$"
Text = Field(min_length=1, max_length=2000, pattern=STORABLE_TEXT)
ShortText = Field(min_length=1, max_length=300, pattern=STORABLE_TEXT)
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Party(StrEnum):
    ETAT = "etat"
    COLLECTIVITE = "collectivite"


class Nature(StrEnum):
    NEW = "new"
    REINFORCED = "reinforced"


class Reinforcement(StrEnum):
    """How an existing action is reinforced (DOMAIN.md §3.3)."""

    LARGER_FILE_ACTIVE = "larger_file_active"
    NEW_PUBLICS = "new_publics"
    NEW_AREAS = "new_areas"


class Decision(StrEnum):
    CONTINUE = "CONTINUE"
    ADJUST = "ADJUST"
    SUSPEND = "SUSPEND"


class YearAmounts(Frozen):
    """One action's money for one year. The 50/50 rule (État == collectivité) is checked by decide."""

    etat: Cents
    collectivite: Cents
    partenaires: Cents = 0  # other partners may add money on top of both


class Indicator(Frozen):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    label: str = ShortText
    baseline: Count
    targets: dict[int, Count] = Field(
        description="Yearly target by programme year: one for every year the action is funded"
    )


class Action(Frozen):
    """A fiche action: what is funded, for whom, where, measured how, with which yearly amounts."""

    action_id: str = Field(pattern=ACTION_ID)
    axis: Axis
    objective: str = ShortText
    title: str = ShortText
    nature: Nature
    reinforcement: Reinforcement | None = None
    public: str = ShortText
    zone: str = ShortText
    indicators: tuple[Indicator, ...] = Field(min_length=1, max_length=MAX_INDICATORS)
    amounts: dict[int, YearAmounts] = Field(description="Amounts by programme year", max_length=4)

    @model_validator(mode="after")
    def _reinforced_says_how(self) -> Action:
        if self.nature is Nature.REINFORCED and self.reinforcement is None:
            raise PydanticCustomError(
                "action.reinforcement_missing",
                "reinforcement: a reinforced action must say how (larger file active, new publics, new areas)",
                {},
            )
        if self.nature is Nature.NEW and self.reinforcement is not None:
            raise PydanticCustomError(
                "action.reinforcement_unexpected", "reinforcement: only a reinforced action has a reinforcement", {}
            )
        return self


class Deliberation(Frozen):
    body: Literal["assemblee", "commission_permanente"]
    voted_on: date
    reference: str = ShortText


class Signature(Frozen):
    party: Party
    signatory: str
    signed_at: datetime
    version: int = 0  # the stream version of the PartySigned fact (what a rectification names)


class CommitteeReview(Frozen):
    year: int
    review_date: date
    indicator_values: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="action -> indicator -> value"
    )
    spending: dict[str, Cents] = Field(default_factory=dict, description="État credits spent to date, by action")
    findings: str = Text
    decision: Decision


class ExecutionReport(Frozen):
    year: int
    etat_spent: dict[str, Cents]
    collectivite_spent: dict[str, Cents]
    submitted_at: datetime


class AvenantKind(StrEnum):
    RENEWAL = "renewal"
    AMENDMENT = "amendment"


class AvenantTerms(Frozen):
    """What an avenant changes, beyond one year's amounts: the ceiling (the same for every year), fiches actions
    added, changed (text, indicators, amounts of years not yet ended) or removed. Signed by both parties, like money."""

    annual_ceiling: int | None = Field(default=None, gt=0, description="The new annual ceiling, in cents")
    added_actions: tuple[Action, ...] = Field(default=(), max_length=MAX_AVENANT_ACTIONS)
    changed_actions: tuple[Action, ...] = Field(default=(), max_length=MAX_AVENANT_ACTIONS)
    removed_actions: tuple[Annotated[str, Field(pattern=ACTION_ID)], ...] = Field(default=(), max_length=MAX_ACTIONS)
    follows_review_of: int | None = Field(
        default=None, description="The year whose committee review decided ADJUST, which this avenant answers"
    )

    @property
    def empty(self) -> bool:
        return not (self.annual_ceiling or self.added_actions or self.changed_actions or self.removed_actions)


class Avenant(Frozen):
    avenant_id: str
    kind: AvenantKind
    year: int
    amounts: dict[str, YearAmounts]
    reason: str
    signatures: tuple[Party, ...] = ()
    signatories: dict[Party, str] = {}  # who signed for each party ("" for signatures recorded before it was asked)
    terms: AvenantTerms = AvenantTerms()
    # The party that proposed it (the one that may withdraw or replace it); None in states folded before it was kept.
    proposed_by: Party | None = Field(default=None, exclude_if=lambda value: value is None)

    @property
    def concluded(self) -> bool:
        return set(self.signatures) == {Party.ETAT, Party.COLLECTIVITE}


class Balance(Frozen):
    """The closing balance, to the cent: programmed = used + recovered (réfaction + reversement)."""

    programmed_etat: int
    used_etat: int
    recoverable_etat: int
    refaction_applied: int
    paid_etat: int
    reversement: int


class EnvelopeMovement(StrEnum):
    """What happens to the État's envelope of a contract's year (DOMAIN.md §8): notified (more credits), frozen (put
    in reserve), released (back from the reserve), cancelled (a decree cancels them: frozen ones first)."""

    NOTIFICATION = "notification"
    FREEZE = "freeze"
    RELEASE = "release"
    CANCELLATION = "cancellation"


# A Chorus engagement juridique number: 10 digits. Source: the issue's brief and practitioners' usage (bons de
# commande starting 21…, 13…); not checked against an AIFE specification here, none was found in the stored pages.
EJ_NUMBER = re.compile(r"[0-9]{10}")


def _ej_number(value: str) -> str:
    if not EJ_NUMBER.fullmatch(value):
        raise PydanticCustomError(
            "ej.format", "ej_number: a Chorus EJ number is 10 digits, not {value}", {"value": value}
        )
    return value


EjNumber = Annotated[
    str, Field(min_length=1, max_length=40, description="A Chorus EJ number: 10 digits"), AfterValidator(_ej_number)
]
# A payment document (a Chorus demande de paiement number) or a titre de perception's number.
DOCUMENT_NUMBER = r"^[0-9A-Za-z][0-9A-Za-z/_-]{0,39}$"


class Commitment(Frozen):
    """An engagement juridique recorded for a programme year."""

    ej_number: str
    amount: int
    committed_on: date


class Payment(Frozen):
    """A versement on an engagement juridique: it counts against the programme year of its commitment."""

    ej_number: str
    instalment: str
    amount: int
    document: str
    paid_on: date


class Titre(Frozen):
    """A titre de perception: what the État claims back of a year's payments, and what has been collected of it."""

    number: str
    amount: int
    issued_on: date
    collected: int = 0


class MissedDeadline(BaseModel):
    """A deadline recorded as missed, as the state keeps it (the fact's stream version is what a withdrawal names)."""

    model_config = ConfigDict(frozen=True)

    deadline: str
    year: int | None
    due: date
    version: int = 0  # the stream version of the DeadlineMissed fact (what a withdrawal names)
