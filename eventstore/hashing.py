"""Tamper evidence: each event's hash chains the previous event's hash, its content and its record time.

hash = sha256(prev_hash ‖ content_digest ‖ recorded_at as UTC text), where content_digest is the sha256 of the
event's canonical JSON text (everything but the record time). The caller sends that text; the database takes every
column from it, keeps it, and computes both digests itself (pacte_append, migration 013: a caller cannot choose a
digest); the verifier recomputes both here, independently, from the columns.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

GENESIS = bytes(32)


def canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    """Sorted keys, fixed separators, UTF-8 as is: the only JSON text the hashes are taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_text(
    *,
    stream_id: str,
    version: int,
    event_id: uuid.UUID,
    event_type: str,
    schema_version: int,
    payload: dict[str, Any],
    metadata: dict[str, Any],
    occurred_at: datetime,
) -> str:
    """The event's canonical JSON text: what is kept beside it (events.canonical) and hashed."""
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
    }
    return canonical_json(document)


def content_digest(
    *,
    stream_id: str,
    version: int,
    event_id: uuid.UUID,
    event_type: str,
    schema_version: int,
    payload: dict[str, Any],
    metadata: dict[str, Any],
    occurred_at: datetime,
) -> bytes:
    text = content_text(
        stream_id=stream_id,
        version=version,
        event_id=event_id,
        event_type=event_type,
        schema_version=schema_version,
        payload=payload,
        metadata=metadata,
        occurred_at=occurred_at,
    )
    return text_digest(text)


def text_digest(text: str) -> bytes:
    """The content digest of an event's canonical text (``content_text``, ``content_text_of_text``): what
    pacte_append computes in SQL from the text it is sent, and what the verifier recomputes."""
    return hashlib.sha256(text.encode()).digest()


def content_text_of_text(
    *,
    stream_id: str,
    version: int,
    event_id: uuid.UUID,
    event_type: str,
    schema_version: int,
    payload_json: str,
    metadata_json: str,
    occurred_at: datetime,
) -> str:
    """``content_text`` from the payload's and metadata's canonical JSON: the append serialises each payload once
    (JSON encoding was half of a 1 000-event batch's Python time). The document is assembled in sorted key order, so
    the text is exactly ``content_text``'s (tested)."""
    return (
        f'{{"event_id":"{event_id}","event_type":{_text(event_type)},"metadata":{metadata_json},'
        f'"occurred_at":"{canonical_time(occurred_at)}","payload":{payload_json},'
        f'"schema_version":{int(schema_version)},"stream_id":{_text(stream_id)},"version":{int(version)}}}'
    )


def _text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def chain(prev_hash: bytes, digest: bytes, recorded_at: datetime) -> bytes:
    """The same computation as pacte_append's, in SQL."""
    return hashlib.sha256(prev_hash + digest + canonical_time(recorded_at).encode()).digest()


def payload_digest_of_text(event_type: str, version: int, payload_json: str) -> str:
    """``payload_digest`` from the payload's canonical JSON (same bytes, tested)."""
    canonical = f'{{"event_type":{_text(event_type)},"payload":{payload_json},"version":{int(version)}}}'
    return hashlib.sha256(canonical.encode()).hexdigest()


def payload_digest(event_type: str, version: int, payload: dict[str, Any]) -> str:
    """What a stored event says, for the workflow to check it folds what was stored (not the record's metadata)."""
    canonical = canonical_json({"event_type": event_type, "version": version, "payload": payload})
    return hashlib.sha256(canonical.encode()).hexdigest()
