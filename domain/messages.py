"""Base classes shared by commands and events: frozen pydantic models discriminated by a ``type`` literal."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.actors import Actor


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1


class CommandBase(Message):
    """Every command carries its actor, its request id (idempotency) and its business time ``at``."""

    contract_id: str = Field(pattern=r"^cls-[0-9a-z]{3,9}$")
    actor: Actor
    request_id: str = Field(min_length=1, max_length=240)  # an idempotency key (<= 200) + "#" + a digest
    at: AwareDatetime


class EventBase(Message):
    """A fact. ``occurred_at`` is business time (from the command), ``actor`` who did it."""

    contract_id: str
    actor: Actor
    request_id: str
    occurred_at: datetime
