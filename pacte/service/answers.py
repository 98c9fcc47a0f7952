"""What the service layer answers: the shapes the API publishes and the web interface renders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from domain.actors import Person
from domain.state import ContractState
from eventstore.integrity import Anchor, VerifyReport
from workflows.models import CampaignProgress

__all__ = [
    "Anchor",
    "Answer",
    "CampaignProgress",
    "CrossCheck",
    "ImportOutcome",
    "ImportReport",
    "Problem",
    "TimelineEntry",
    "VerifyReport",
]


class Answer(BaseModel):
    """What every command answers: what changed (the events it recorded) and the new state."""

    contract_id: str
    version: int
    events: list[dict[str, Any]]
    state: ContractState


class TimelineEntry(BaseModel):
    """One fact, on both time axes: when it happened (business) and when Pacte learned it (record), who did it and
    who entered it, where it comes from, and whether it was recorded late, rectified or withdrawn since."""

    version: int
    event_type: str
    role: str
    identity: str
    person: Person | None = Field(default=None, description="The person who did it, when known (sub, name, email)")
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str | None = Field(description="Who entered the fact, when not the party that did it")
    source: str | None = Field(description="The document the fact comes from")
    imported: bool = Field(description="Taken over from an import file (reprise de l'existant)")
    late_by_days: int | None = Field(description="Days between the fact and its record, past the policy's threshold")
    withdrawn_by: int | None = Field(description="Version of the compensating fact that withdrew this one")
    rectified_by: list[int] = Field(description="Versions of the facts that rectified this one")
    payload: dict[str, Any]


class ImportOutcome(BaseModel):
    contract_id: str
    outcome: str = Field(description="imported, unchanged (the same file again) or refused")
    version: int | None = None
    events: int = 0
    line: int | None = Field(default=None, description="The line of the file refused (1-based)")
    code: str | None = None
    field: str | None = None
    message: str | None = None
    rule: str | None = Field(default=None, description="The exact rule refused (its French sentence in the web)")
    params: dict[str, str | int] = Field(default_factory=dict, description="The rule's parameters")


class ImportReport(BaseModel):
    imported: int
    unchanged: int
    refused: int
    contracts: list[ImportOutcome]
    dry_run: bool = Field(
        default=False, description="A preview: what the import would do, contract by contract; nothing was recorded"
    )


class Refusal(BaseModel):
    """One refusal of a command: its broad code, its rule id and parameters, the field at fault."""

    code: str
    message: str
    field: str | None
    rule: str
    params: dict[str, str | int] = {}


class Problem(BaseModel):
    """A refusal. ``code``, ``message`` and ``field`` are the first refusal found (the shape the API always had);
    ``errors``, when the domain refused the command, lists every refusal found at once (the first included)."""

    code: str
    message: str
    field: str | None
    errors: list[Refusal] | None = None


class CrossCheck(BaseModel):
    checked: int
    differences: list[dict[str, Any]]
    ok: bool
