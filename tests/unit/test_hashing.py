"""The append hashes the canonical text it sends; the verifier hashes the documents it reads back: the same bytes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from eventstore.hashing import (
    canonical_json,
    content_digest,
    content_text_of_text,
    payload_digest,
    payload_digest_of_text,
    text_digest,
)

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)  # PostgreSQL stores no lone surrogate
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)
documents = st.dictionaries(text, json_values, max_size=6)


@given(
    stream_id=text,
    version=st.integers(1, 2**31 - 1),
    event_type=text,
    schema_version=st.integers(1, 50),
    payload=documents,
    metadata=documents,
    seconds=st.integers(0, 10**9),
    microseconds=st.integers(0, 999_999),
    hours=st.integers(-12, 14),
)
def test_the_digest_of_the_sent_text_is_the_verifiers_digest(
    stream_id: str,
    version: int,
    event_type: str,
    schema_version: int,
    payload: dict[str, Any],
    metadata: dict[str, Any],
    seconds: int,
    microseconds: int,
    hours: int,
) -> None:
    occurred_at = datetime(2024, 1, 1, tzinfo=UTC).astimezone(timezone(timedelta(hours=hours))) + timedelta(
        seconds=seconds, microseconds=microseconds
    )
    fields = {
        "stream_id": stream_id,
        "version": version,
        "event_id": uuid.uuid4(),
        "event_type": event_type,
        "schema_version": schema_version,
        "occurred_at": occurred_at,
    }
    assert text_digest(
        content_text_of_text(**fields, payload_json=canonical_json(payload), metadata_json=canonical_json(metadata))
    ) == content_digest(**fields, payload=payload, metadata=metadata)
    assert payload_digest_of_text(event_type, version, canonical_json(payload)) == payload_digest(
        event_type, version, payload
    )


def test_a_different_payload_gives_a_different_digest() -> None:
    fields = {
        "stream_id": "cls-d33",
        "version": 1,
        "event_id": uuid.UUID(int=1),
        "event_type": "ContractProposed",
        "schema_version": 1,
        "metadata_json": "{}",
        "occurred_at": datetime(2024, 3, 28, tzinfo=UTC),
    }
    assert text_digest(content_text_of_text(**fields, payload_json='{"a":1}')) != text_digest(
        content_text_of_text(**fields, payload_json='{"a":2}')
    )
