"""What workflows send to activities and get back: plain models, no database driver (safe in the sandbox)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from eventstore.records import AppendResult, NewEvent

APPEND_EVENTS = "append_events"
RECORD_REMINDER = "record_reminder"
CONTRACT_STATUSES = "contract_statuses"
READ_EVENTS_AFTER = "read_events_after"
VERIFY_AND_ANCHOR = "verify_and_anchor"
RELAY_REMINDERS = "relay_reminders"

__all__ = [
    "APPEND_EVENTS",
    "CONTRACT_STATUSES",
    "READ_EVENTS_AFTER",
    "RECORD_REMINDER",
    "RELAY_REMINDERS",
    "VERIFY_AND_ANCHOR",
    "AppendRequest",
    "AppendResult",
    "NewEvent",
    "ReadAfterRequest",
    "RelayRequest",
    "RelayResult",
    "ReminderRequest",
    "VerifyResult",
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


class VerifyResult(BaseModel):
    """What a nightly verify found (intact: it fails otherwise) and the signed anchor it wrote."""

    model_config = ConfigDict(frozen=True)

    streams: int
    events: int
    anchor: str  # the file the new anchor was written to
    digest: str
    checked_against: str | None  # the previous anchor's file, None on the first night


class RelayRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    today: date  # reminders whose remind_on is at most this French date are relayed
    limit: int = 1000


class RelayResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    relayed: int
