"""Tamper evidence: each event's hash covers its canonical bytes and the hash of the previous event of its stream."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

GENESIS = bytes(32)


def canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_bytes(
    *,
    stream_id: str,
    version: int,
    event_id: uuid.UUID,
    event_type: str,
    schema_version: int,
    payload: dict[str, Any],
    metadata: dict[str, Any],
    occurred_at: datetime,
    recorded_at: datetime,
) -> bytes:
    # Sorted keys and fixed separators: the same event always gives the same bytes, whatever the dict order or the
    # way PostgreSQL's jsonb hands the payload back.
    document = {
        "stream_id": stream_id,
        "version": version,
        "event_id": str(event_id),
        "event_type": event_type,
        "schema_version": schema_version,
        "payload": payload,
        "metadata": metadata,
        "occurred_at": canonical_time(occurred_at),
        "recorded_at": canonical_time(recorded_at),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain(prev_hash: bytes, data: bytes) -> bytes:
    return hashlib.sha256(prev_hash + data).digest()
