"""Base classes shared by commands and events: frozen pydantic models discriminated by a ``type`` literal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.actors import Actor
from domain.limits import STORABLE_TEXT


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1


SOURCE = Field(
    default=None, min_length=1, max_length=500, pattern=STORABLE_TEXT, description="The document the fact comes from"
)


class CommandBase(Message):
    """Every command carries its actor, its request id (idempotency) and its business time ``at``.

    ``entered_at`` is when the command reached Pacte (the workflow's clock, stamped there): a fact dated after it is
    in the future. ``recorded_by`` is who typed the fact when it is not the party that did it (a préfecture taking
    over a contract's history), and ``source`` the document it comes from.
    """

    contract_id: str = Field(pattern=r"^cls-[0-9a-z]{3,9}(-[2-9])?$")  # territories.CONTRACT_ID_PATTERN
    actor: Actor
    request_id: str = Field(min_length=1, max_length=240)  # an idempotency key (<= 200) + "#" + a digest
    at: AwareDatetime
    entered_at: AwareDatetime | None = None
    recorded_by: Actor | None = None
    source: str | None = SOURCE


class EventBase(Message):
    """A fact. ``occurred_at`` is business time (from the command), ``actor`` who did it, ``recorded_by`` who entered
    it when that is someone else, ``source`` the document it comes from. Record time is the store's, not here."""

    contract_id: str
    actor: Actor
    request_id: str
    occurred_at: datetime
    recorded_by: Actor | None = None
    source: str | None = None


def event_fields(command: CommandBase) -> dict[str, Any]:
    """What every fact takes from the command that caused it: its contract, actor, request, business time, who typed it
    and the document it comes from."""
    return {
        "contract_id": command.contract_id,
        "actor": command.actor,
        "request_id": command.request_id,
        "occurred_at": command.at,
        "recorded_by": command.recorded_by,
        "source": command.source,
    }
