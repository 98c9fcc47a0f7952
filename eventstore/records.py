"""What goes into the store and what comes out of it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.messages import EventBase

# Event ids are uuid5(stream, version) under this namespace: a retried append re-sends identical ids.
EVENT_ID_NAMESPACE = uuid.UUID("6f1d3c2e-5b7a-4e8f-9c0d-1a2b3c4d5e6f")


def event_id_for(stream_id: str, version: int) -> uuid.UUID:
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"{stream_id}/{version}")


def new_event_from(stream_id: str, version: int, event: EventBase, **metadata: Any) -> NewEvent:
    """The stored form of a domain event at ``version``: its id derives from stream and version (deterministic)."""
    return NewEvent(
        event_id=event_id_for(stream_id, version),
        event_type=event.type,  # type: ignore[attr-defined]
        schema_version=event.schema_version,
        payload=event.model_dump(mode="json"),
        metadata={"actor": event.actor.model_dump(mode="json"), "request_id": event.request_id, **metadata},
        occurred_at=event.occurred_at,
    )


class NewEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID
    event_type: str = Field(min_length=1)
    schema_version: int = 1
    payload: dict[str, Any]
    metadata: dict[str, Any] = Field(default_factory=dict)
    occurred_at: datetime


class Cursor(BaseModel):
    """Where a follower is in the global order: (appending transaction, position). Zero: the beginning."""

    model_config = ConfigDict(frozen=True)

    tx: int = 0
    position: int = 0

    @property
    def token(self) -> str:
        return f"{self.tx}.{self.position}"

    @classmethod
    def parse(cls, token: str) -> Cursor:
        tx, _, position = token.partition(".")
        return cls(tx=int(tx), position=int(position or 0))


class RecordedEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    global_position: int
    tx_id: int
    stream_id: str
    version: int
    event_id: uuid.UUID
    event_type: str
    schema_version: int
    payload: dict[str, Any]
    metadata: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime
    prev_hash: bytes
    hash: bytes

    @property
    def cursor(self) -> Cursor:
        return Cursor(tx=self.tx_id, position=self.global_position)


class AppendResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    stream_id: str
    version: int = Field(description="The stream's version after the append")
    first_position: int | None = Field(description="Global position of the first event written, None if none")
    already_appended: bool = Field(description="True when the same events were already stored (a retry)")
    stored: list[str] = Field(
        default_factory=list, description="payload_digest of each event stored at the versions appended, in order"
    )
