"""Exports do not hold the database: short keyset pages up to a position recorded when the export starts. While
writers keep appending, an export returns every event up to that position exactly once, and nothing beyond it."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from eventstore.store import EventStore
from tests.integration.test_eventstore_append import new_events, stream_name

pytestmark = pytest.mark.integration


async def test_an_export_while_appends_go_on_misses_and_doubles_nothing(fresh_store: EventStore) -> None:
    streams = [stream_name() for _ in range(4)]
    for s in streams:
        await fresh_store.append(s, 0, new_events(s, 1, 50))
    stop = asyncio.Event()

    async def writer(s: str) -> None:
        version = 50
        while not stop.is_set():
            await fresh_store.append(s, version, new_events(s, version + 1, 3))
            version += 3

    writers = [asyncio.create_task(writer(s)) for s in streams]
    await asyncio.sleep(0.05)
    upto = await fresh_store.head()
    exported = []
    async for event in fresh_store.export_all(upto, batch=7):  # small pages: many short reads while writers write
        exported.append(event)
        await asyncio.sleep(0)  # the caller sending a row: the writers go on meanwhile
    stop.set()
    await asyncio.gather(*writers)

    everything = [e async for e in fresh_store.iter_all()]
    expected = [e for e in everything if (e.cursor.tx, e.cursor.position) <= (upto.tx, upto.position)]
    assert len(everything) > len(expected) >= 200  # appends went on past the recorded position
    ids = [e.event_id for e in exported]
    assert Counter(ids).most_common(1)[0][1] == 1  # nothing doubled
    assert ids == [e.event_id for e in expected]  # nothing missing, in the global order


async def test_one_contracts_export_stops_at_its_version_when_asked(fresh_store: EventStore) -> None:
    s = stream_name()
    await fresh_store.append(s, 0, new_events(s, 1, 25))
    pages = fresh_store.export_stream(s, 25, batch=4)
    first = [await anext(pages) for _ in range(10)]
    await fresh_store.append(s, 25, new_events(s, 26, 5))  # appended during the download
    rest = [e async for e in pages]
    assert [e.version for e in first + rest] == list(range(1, 26))
