"""What workflows send to activities and get back: plain models, no database driver (safe in the sandbox)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from eventstore.records import AppendResult, NewEvent

APPEND_EVENTS = "append_events"

__all__ = ["APPEND_EVENTS", "AppendRequest", "AppendResult", "NewEvent"]


class AppendRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    stream_id: str
    expected_version: int
    events: list[NewEvent]
