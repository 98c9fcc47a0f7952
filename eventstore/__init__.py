"""The PostgreSQL event store: the auditors' system of record (Temporal's history is deleted after retention)."""

from eventstore.records import AppendResult, NewEvent, RecordedEvent
from eventstore.store import ConcurrencyError, EventStore

__all__ = ["AppendResult", "ConcurrencyError", "EventStore", "NewEvent", "RecordedEvent"]
