"""Reads, global order under concurrent writers, and catch-up subscriptions, on every available PostgreSQL."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from eventstore.hashing import content_text
from eventstore.migrate import Conn
from eventstore.records import NewEvent, RecordedEvent, event_id_for
from eventstore.store import EventStore
from eventstore.subscriptions import CatchUpSubscription
from tests.waiting import eventually

pytestmark = pytest.mark.integration

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def events(stream: str, start: int, count: int, event_type: str = "Tested") -> list[NewEvent]:
    return [
        NewEvent(
            event_id=event_id_for(stream, start + i),
            event_type=event_type,
            payload={"n": start + i},
            occurred_at=T0 + timedelta(days=start + i),
        )
        for i in range(count)
    ]


async def test_stream_reads_whole_up_to_a_version_and_as_of_a_business_date(fresh_store: EventStore) -> None:
    await fresh_store.append("cat-1", 0, events("cat-1", 1, 5))
    assert [e.version for e in await fresh_store.read_stream("cat-1")] == [1, 2, 3, 4, 5]
    assert [e.version for e in await fresh_store.read_stream("cat-1", up_to_version=2)] == [1, 2]
    as_of = await fresh_store.read_stream("cat-1", as_of=T0 + timedelta(days=3))
    assert [e.payload["n"] for e in as_of] == [1, 2, 3]


async def test_filters_and_stream_listing(fresh_store: EventStore) -> None:
    await fresh_store.append("alpha-1", 0, events("alpha-1", 1, 2, "A"))
    await fresh_store.append("beta-1", 0, events("beta-1", 1, 3, "B"))
    await fresh_store.append("alpha-2", 0, events("alpha-2", 1, 1, "B"))
    assert {e.stream_id for e in await fresh_store.read_all(categories=["alpha"])} == {"alpha-1", "alpha-2"}
    assert [e.stream_id for e in await fresh_store.read_all(event_types=["A"])] == ["alpha-1", "alpha-1"]
    assert await fresh_store.list_streams("alpha") == [("alpha-1", 2), ("alpha-2", 1)]
    everything = [e async for e in fresh_store.iter_all(batch=2)]
    assert len(everything) == 6
    assert [(e.tx_id, e.global_position) for e in everything] == sorted(
        (e.tx_id, e.global_position) for e in everything
    )


async def test_a_follower_never_skips_or_repeats_an_event_under_concurrent_writers(fresh_store: EventStore) -> None:
    writers, per_writer = 8, 60
    done = asyncio.Event()

    async def writer(index: int) -> None:
        stream, version, rng = f"w-{index}", 0, random.Random(index)
        while version < per_writer:
            size = min(rng.randint(1, 5), per_writer - version)
            await fresh_store.append(stream, version, events(stream, version + 1, size))
            version += size

    seen: list[RecordedEvent] = []

    async def follower() -> None:
        cursor = None
        while True:
            finished = done.is_set()
            page = await fresh_store.read_all(cursor, limit=7)
            seen.extend(page)
            if page:
                cursor = page[-1].cursor
            elif finished:
                return
            else:
                await asyncio.sleep(0)

    follow = asyncio.create_task(follower())
    await asyncio.gather(*(writer(i) for i in range(writers)))
    done.set()
    await follow
    ids = [e.event_id for e in seen]
    assert len(ids) == len(set(ids)) == writers * per_writer  # nothing skipped, nothing seen twice
    assert [(e.tx_id, e.global_position) for e in seen] == sorted((e.tx_id, e.global_position) for e in seen)
    for i in range(writers):  # each stream's events in version order
        assert [e.version for e in seen if e.stream_id == f"w-{i}"] == list(range(1, per_writer + 1))


async def test_an_event_that_commits_later_with_a_lower_position_is_not_skipped(fresh_store: EventStore) -> None:
    """The classic trap: position 1 is taken by a transaction still open while position 2 commits."""
    slow = await fresh_store.pool.acquire()
    try:
        transaction = slow.transaction()
        await transaction.start()
        held = events("slow-1", 1, 1)[0]
        await slow.fetchrow(
            "SELECT * FROM pacte_append($1, 'slow', 0, $2, NULL, NULL)",
            "slow-1",
            [
                content_text(
                    stream_id="slow-1",
                    version=1,
                    event_id=held.event_id,
                    event_type=held.event_type,
                    schema_version=held.schema_version,
                    payload=held.payload,
                    metadata=held.metadata,
                    occurred_at=held.occurred_at,
                )
            ],
        )
        await fresh_store.append("fast-1", 0, events("fast-1", 1, 1))  # commits first, with a higher position
        assert await fresh_store.read_all() == []  # held back: an older transaction is still open
        await transaction.commit()
    finally:
        await fresh_store.pool.release(slow)
    seen = await fresh_store.read_all()
    assert [e.stream_id for e in seen] == ["slow-1", "fast-1"]
    assert seen[0].global_position < seen[1].global_position


async def test_a_subscription_that_crashes_resumes_exactly_where_it_was(fresh_store: EventStore) -> None:
    await fresh_store.pool.execute("CREATE TABLE effects (event_id uuid PRIMARY KEY, n int)")
    await fresh_store.append("sub-1", 0, events("sub-1", 1, 10))
    await fresh_store.append("other-1", 0, events("other-1", 1, 3))
    crash_on = {7}

    async def handler(conn: Conn, batch: list[RecordedEvent]) -> None:
        for event in batch:
            await conn.execute("INSERT INTO effects VALUES ($1, $2)", event.event_id, event.payload["n"])
            if event.payload["n"] in crash_on:
                crash_on.clear()
                raise RuntimeError("consumer crashed")

    sub = CatchUpSubscription(fresh_store, "effects", handler, categories=["sub"], batch=4)
    assert await sub.catch_up_once() == 4
    with pytest.raises(RuntimeError):
        await sub.catch_up_once()  # events 5..8: crashes at 7, its effects and checkpoint roll back together
    assert await fresh_store.pool.fetchval("SELECT count(*) FROM effects") == 4
    assert await sub.catch_up() == 6
    rows = await fresh_store.pool.fetch("SELECT n FROM effects ORDER BY n")
    assert [r["n"] for r in rows] == list(range(1, 11))  # each exactly once, none of the other category
    assert await sub.position() == (await fresh_store.read_all(categories=["sub"]))[-1].cursor


async def test_a_running_subscription_is_woken_by_notify(fresh_store: EventStore) -> None:
    handled: list[int] = []

    async def handler(conn: Conn, batch: list[RecordedEvent]) -> None:
        handled.extend(e.payload["n"] for e in batch)

    stop = asyncio.Event()
    # Polling every 10 minutes: only a notification can wake it within this test.
    sub = CatchUpSubscription(fresh_store, f"live-{uuid.uuid4().hex[:6]}", handler, poll_interval=600)
    task = asyncio.create_task(sub.run(stop))
    # Append only once the subscription has caught up and waits (its checkpoint row is written by its first turn):
    # from then on, only the notification can bring the events within the minute this test gives it.
    checkpoint = "SELECT 1 FROM subscription_checkpoints WHERE name = $1"
    await eventually(lambda: fresh_store.pool.fetchval(checkpoint, sub.name), what="the subscription's first turn")
    await fresh_store.append("live-1", 0, events("live-1", 1, 3))
    await eventually(lambda: len(handled) == 3, what="the three events handled")
    stop.set()
    await asyncio.wait_for(task, 60)
    assert handled == [1, 2, 3]
