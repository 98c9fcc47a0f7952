"""What workflows send to activities and get back: plain models, no database driver (safe in the sandbox)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from eventstore.records import AppendResult, NewEvent

APPEND_EVENTS = "append_events"
RECORD_REMINDER = "record_reminder"
CONTRACT_STATUSES = "contract_statuses"
READ_EVENTS_AFTER = "read_events_after"

__all__ = [
    "APPEND_EVENTS",
    "CONTRACT_STATUSES",
    "READ_EVENTS_AFTER",
    "RECORD_REMINDER",
    "AppendRequest",
    "AppendResult",
    "NewEvent",
    "ReadAfterRequest",
    "ReminderRequest",
]


class AppendRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    stream_id: str
    expected_version: int
    events: list[NewEvent]


class ReadAfterRequest(BaseModel):
    """A workflow reads its own stream after the version it holds (an append whose answer was lost)."""

    model_config = ConfigDict(frozen=True)

    stream_id: str
    after_version: int


class ReminderRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    contract_id: str
    deadline: str
    year: int | None
    due: date
    remind_on: date


class ContractStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    contract_id: str
    status: str
    late: bool
