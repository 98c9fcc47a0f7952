"""The event store's append path on a real PostgreSQL: idempotent, optimistic, append-only, hash-chained."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from eventstore.hashing import GENESIS, chain, content_digest
from eventstore.records import NewEvent, event_id_for
from eventstore.store import ConcurrencyError, EventStore

pytestmark = pytest.mark.integration


def new_events(stream: str, start: int, count: int, marker: str = "a") -> list[NewEvent]:
    return [
        NewEvent(
            event_id=event_id_for(stream, start + i) if marker == "a" else uuid.uuid4(),
            event_type="Tested",
            payload={"n": start + i, "marker": marker, "text": "é'\"; DROP TABLE events; --"},
            metadata={"actor": {"identity": "test"}},
            occurred_at=datetime(2024, 2, 1, tzinfo=UTC),
        )
        for i in range(count)
    ]


def stream_name() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


async def test_append_then_read_back_in_order(store: EventStore) -> None:
    stream = stream_name()
    result = await store.append(stream, 0, new_events(stream, 1, 3))
    assert result.version == 3 and not result.already_appended
    events = await store.read_stream(stream)
    assert [e.version for e in events] == [1, 2, 3]
    assert events[0].payload["text"] == "é'\"; DROP TABLE events; --"
    assert await store.stream_version(stream) == 3


async def test_the_same_events_again_are_already_appended_and_nothing_is_written(store: EventStore) -> None:
    stream = stream_name()
    batch = new_events(stream, 1, 2)
    await store.append(stream, 0, batch)
    again = await store.append(stream, 0, batch)
    assert again.already_appended and again.version == 2
    assert len(await store.read_stream(stream)) == 2


async def test_a_different_event_at_an_existing_version_is_a_conflict(store: EventStore) -> None:
    stream = stream_name()
    await store.append(stream, 0, new_events(stream, 1, 2))
    with pytest.raises(ConcurrencyError) as info:
        await store.append(stream, 1, new_events(stream, 2, 1, marker="other"))
    assert info.value.stream_id == stream and info.value.version == 2
    with pytest.raises(ConcurrencyError):
        await store.append(stream, 5, new_events(stream, 6, 1))
    assert len(await store.read_stream(stream)) == 2


async def test_events_are_chained_by_hash(store: EventStore) -> None:
    stream = stream_name()
    await store.append(stream, 0, new_events(stream, 1, 2))
    first, second = await store.read_stream(stream)
    assert first.prev_hash == GENESIS and second.prev_hash == first.hash
    recomputed = chain(
        first.prev_hash,
        content_digest(
            stream_id=stream,
            version=1,
            event_id=first.event_id,
            event_type=first.event_type,
            schema_version=first.schema_version,
            payload=first.payload,
            metadata=first.metadata,
            occurred_at=first.occurred_at,
        ),
        first.recorded_at,
    )
    assert recomputed == first.hash


async def test_the_database_refuses_update_and_delete(store: EventStore) -> None:
    stream = stream_name()
    await store.append(stream, 0, new_events(stream, 1, 1))
    async with store.pool.acquire() as conn:
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("UPDATE events SET payload = '{}' WHERE stream_id = $1", stream)
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("DELETE FROM events WHERE stream_id = $1", stream)
    assert (await store.read_stream(stream))[0].payload["n"] == 1


async def test_migrations_are_idempotent(database_url: str) -> None:
    again = await EventStore.connect(database_url)  # applies nothing new, raises nothing
    try:
        applied = await again.pool.fetchval("SELECT count(*) FROM schema_migrations")
        assert applied >= 1
    finally:
        await again.close()
