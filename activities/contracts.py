"""What workflows send to activities and get back: plain models, no database driver (safe in the sandbox)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from domain.policy import Policy
from domain.state import ContractState
from eventstore.records import AppendResult, NewEvent

APPEND_EVENTS = "append_events"
RECORD_REMINDER = "record_reminder"
CONTRACT_STATUSES = "contract_statuses"
READ_EVENTS_AFTER = "read_events_after"
IMPORT_FILE = "import_file"
VERIFY_AND_ANCHOR = "verify_and_anchor"
RELAY_REMINDERS = "relay_reminders"

__all__ = [
    "APPEND_EVENTS",
    "CONTRACT_STATUSES",
    "IMPORT_FILE",
    "READ_EVENTS_AFTER",
    "RECORD_REMINDER",
    "RELAY_REMINDERS",
    "VERIFY_AND_ANCHOR",
    "AppendRequest",
    "AppendResult",
    "ImportFileRequest",
    "ImportFileResult",
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


class ImportFileRequest(BaseModel):
    """Decide the import file kept under ``digest`` on an empty stream and append its history, in one activity: the
    workflow passes the hash, its clock and the rules it takes, never the lines (over Temporal's payload limit near
    the documented bounds, and deciding 2 000 facts in a workflow task trips the deadlock detector)."""

    model_config = ConfigDict(frozen=True)

    stream_id: str
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    expected_version: int
    now: datetime  # the workflow's business clock: the calendar is judged up to it
    policy: Policy  # the rules this run takes (its patches asked by the workflow)


class ImportFileResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: int
    recorded: int  # events this import recorded (0: the same file again)
    state: ContractState  # the stream folded: what the workflow holds from now on (bounded: ~1.2 MB at the caps)


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
