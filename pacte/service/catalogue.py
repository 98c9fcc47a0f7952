"""What an operator can ask, in one table: every command's route, its request body and how a request becomes a
command. The API publishes it, the CLI sends it, the web interface renders a form of it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, create_model

from domain.business_time import When, occurred_at
from domain.limits import STORABLE_TEXT
from domain.messages import SOURCE, CommandBase
from domain.money import Cents
from domain.request_log import keyed_request_id
from domain.values import Action

CommandT = TypeVar("CommandT", bound=CommandBase)
# Fields a caller never gives: they come from the route, the signed-in actor or the clock.
BASE_FIELDS = {"type", "schema_version", "contract_id", "actor", "request_id", "at", "entered_at", "recorded_by"}

# (method, path, command type, path parameters that fill command fields)
COMMAND_ROUTES: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("POST", "/contracts/{contract_id}/actions", "AddAction", ()),
    ("PUT", "/contracts/{contract_id}/actions/{action_id}", "ChangeAction", ()),
    ("DELETE", "/contracts/{contract_id}/actions/{action_id}", "RemoveAction", ("action_id",)),
    ("POST", "/contracts/{contract_id}/deliberation", "RecordDeliberation", ()),
    ("POST", "/contracts/{contract_id}/signatures", "SignContract", ()),
    ("POST", "/contracts/{contract_id}/committee-reviews", "RecordCommitteeReview", ()),
    ("POST", "/contracts/{contract_id}/renewals", "Renew", ()),
    ("POST", "/contracts/{contract_id}/amendments", "Amend", ()),
    ("POST", "/contracts/{contract_id}/avenants/{avenant_id}/signatures", "SignAvenant", ("avenant_id",)),
    ("POST", "/contracts/{contract_id}/avenants/{avenant_id}/withdrawal", "WithdrawAvenant", ("avenant_id",)),
    ("POST", "/contracts/{contract_id}/execution-reports", "SubmitExecutionReport", ()),
    ("POST", "/contracts/{contract_id}/mid-term-evaluation", "RecordMidTermEvaluation", ()),
    ("POST", "/contracts/{contract_id}/suspension", "Suspend", ()),
    ("POST", "/contracts/{contract_id}/resumption", "Resume", ()),
    ("POST", "/contracts/{contract_id}/termination", "Terminate", ()),
    ("POST", "/contracts/{contract_id}/closing", "CloseContract", ()),
    ("POST", "/contracts/{contract_id}/rectifications/execution-report", "RectifyExecutionReport", ()),
    ("POST", "/contracts/{contract_id}/rectifications/signature", "RectifySignature", ()),
    ("POST", "/contracts/{contract_id}/envelope", "RecordEnvelope", ()),
    ("POST", "/contracts/{contract_id}/commitments", "RecordCommitment", ()),
    ("POST", "/contracts/{contract_id}/payments", "RecordPayment", ()),
    ("POST", "/contracts/{contract_id}/recovery-orders", "IssueRecoveryOrder", ()),
    ("POST", "/contracts/{contract_id}/recoveries", "RecordRecoveryCollected", ()),
]
COMMAND_KINDS = tuple(kind for _, _, kind, _ in COMMAND_ROUTES)


def command_classes() -> dict[str, type[BaseModel]]:
    from domain import commands

    return {name: getattr(commands, name) for name in COMMAND_KINDS}


OCCURRED_AT = Field(
    default=None,
    description="When the fact happened (business time): an ISO date (that day in Europe/Paris) or date-time. "
    "Default: now. Refused if in the future, before the programme, or inconsistent with the facts it follows.",
)


# Fields a request must give although the command defaults them, so that facts recorded before the field existed
# still replay and import (SignAvenant.signatory).
REQUIRED_IN_BODY: dict[str, dict[str, Any]] = {
    "SignAvenant": {"signatory": Field(min_length=1, max_length=300, pattern=STORABLE_TEXT, description="Who signs")},
}


def body_model(kind: str, cls: type[BaseModel], from_path: tuple[str, ...]) -> type[BaseModel]:
    fields: dict[str, Any] = {
        name: (field.annotation, field)
        for name, field in cls.model_fields.items()
        if name not in BASE_FIELDS and name not in from_path
    }
    for name, required in REQUIRED_IN_BODY.get(kind, {}).items():
        fields[name] = (str, required)
    fields["occurred_at"] = (When | None, OCCURRED_AT)
    return create_model(f"{kind}Body", __config__=ConfigDict(extra="forbid"), **fields)


def business_time(value: date | datetime | None, now: datetime) -> datetime:
    """The business time of a command: the ``occurred_at`` given, or now."""
    return now if value is None else occurred_at(value, now)


def command_body_models() -> dict[str, type[BaseModel]]:
    """The request body of every command operation, by command type (what the OpenAPI schema publishes)."""
    classes = command_classes()
    return {kind: body_model(kind, classes[kind], from_path) for _, _, kind, from_path in COMMAND_ROUTES}


def with_request_id(command: CommandT, key: str | None) -> CommandT:
    """Without an Idempotency-Key a command keeps its fresh request id; with one, its request id is the key plus a
    digest of what it asks, so a retry is recognised and a key reused for a different command is refused."""
    if not key:
        return command
    content = command.model_dump(mode="json", exclude={"request_id", "at", "entered_at"})
    return command.model_copy(update={"request_id": keyed_request_id(key, content)})


class ProposeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    territory: str = Field(max_length=20, description="SIREN of a métropole, or D + INSEE code of a département")
    annual_ceiling: Cents = Field(description="Annual ceiling in euro cents")
    draft_actions: tuple[Action, ...] = ()
    occurred_at: When | None = OCCURRED_AT
    source: str | None = SOURCE


class CampaignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    territories: list[str] = Field(min_length=1, max_length=200)
    annual_ceiling: Cents = Field(description="Euro cents, for every territory")
    ceilings: dict[str, Cents] = Field(default_factory=dict, description="Euro cents per territory, overriding")
