"""The chain's digests are computed by the database from the canonical text it keeps (issue 25, item 6): the runtime
role cannot choose one, a text that is not the event is refused, and a chain begun before migration 013 (digests the
caller computed) and continued after it verifies with the Python verifier."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from eventstore.hashing import GENESIS, canonical_time, chain, content_digest, content_text
from eventstore.integrity import verify
from eventstore.migrate import _migrations, checksum, migrate
from eventstore.records import NewEvent
from eventstore.store import EventStore
from pacte.embedded import with_database
from pacte.runtime import runtime_url_for

pytestmark = pytest.mark.integration

APPEND = "SELECT * FROM pacte_append($1, $2, $3, $4, NULL, NULL)"


def event(n: int, at: datetime | None = None) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(),
        event_type="Noted",
        schema_version=1,
        payload={"n": n, "note": 'é "quoted"\n'},
        metadata={"actor": {"role": "system"}},
        occurred_at=at or datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC),
    )


def text_of(stream: str, version: int, e: NewEvent) -> str:
    return content_text(
        stream_id=stream,
        version=version,
        event_id=e.event_id,
        event_type=e.event_type,
        schema_version=e.schema_version,
        payload=e.payload,
        metadata=e.metadata,
        occurred_at=e.occurred_at,
    )


async def test_the_runtime_role_cannot_choose_a_digest(fresh_store: EventStore, any_server_url: str) -> None:
    database = await fresh_store.pool.fetchval("SELECT current_database()")
    runtime = await asyncpg.connect(runtime_url_for(with_database(any_server_url, database)))
    try:
        # The function that took the caller's digests is gone.
        e = event(1)
        with pytest.raises(asyncpg.UndefinedFunctionError):
            await runtime.fetchrow(
                """SELECT * FROM pacte_append('probe-d', 'probe', 0, $1, $2, $3, $4::text[]::jsonb[],
                                              $5::text[]::jsonb[], $6, $7, NULL, NULL)""",
                [e.event_id],
                [e.event_type],
                [1],
                ['{"n": 1}'],
                ["{}"],
                [e.occurred_at],
                [b"\x00" * 32],
            )
        # A text that is not this event at this place is refused, whatever it says.
        good = text_of("probe-d", 1, e)
        wrong = [
            text_of("probe-other", 1, e),  # another stream
            text_of("probe-d", 2, e),  # another version
            good[:-1] + ',"extra":1}',  # a field the event does not have
            good.replace(canonical_time(e.occurred_at), "2025-03-04T05:06:07.890123+00:00"),  # not canonical
            good.replace(str(e.event_id), str(e.event_id).upper()),
            good.replace('"version":1', '"version":1.0'),
        ]
        for text in wrong:
            with pytest.raises((asyncpg.CheckViolationError, asyncpg.DataError)):
                await runtime.fetchrow(APPEND, "probe-d", "probe", 0, [text])
        assert await fresh_store.pool.fetchval("SELECT count(*) FROM events") == 0
        # Nothing to append writes nothing: no stream head without events (verify would report a lost stream).
        await runtime.fetchrow(APPEND, "probe-empty", "probe", 0, [])
        assert await fresh_store.pool.fetchval("SELECT count(*) FROM streams") == 0
        # The canonical text goes in; the database takes every column from it, keeps it, and hashes it itself.
        second = event(2)
        texts = [good, text_of("probe-d", 2, second)]
        row = await runtime.fetchrow(APPEND, "probe-d", "probe", 0, texts)
        assert (row["outcome"], row["stream_version"]) == ("appended", 2)
    finally:
        await runtime.close()
    stored = await fresh_store.read_stream("probe-d")
    kept = await fresh_store.pool.fetch("SELECT canonical FROM events WHERE stream_id = 'probe-d' ORDER BY version")
    assert [r["canonical"] for r in kept] == texts
    assert [(s.event_id, s.payload, s.metadata, s.occurred_at) for s in stored] == [
        (x.event_id, x.payload, x.metadata, x.occurred_at) for x in (e, second)
    ]
    prev = GENESIS
    for s, text in zip(stored, texts, strict=True):
        assert s.prev_hash == prev
        assert s.hash == chain(prev, hashlib.sha256(text.encode()).digest(), s.recorded_at)
        prev = s.hash
    async with fresh_store.pool.acquire() as conn:
        assert (await verify(conn)).ok


async def test_a_chain_begun_before_the_migration_verifies_after_it(any_server_url: str) -> None:
    """Events appended with the caller's digests (migrations up to 012), then through the database's digests (013):
    the Python verifier accepts the whole chain; a kept text altered afterwards is named."""
    from tests.conftest import create_fresh_database, drop_database

    url = await create_fresh_database(any_server_url)
    try:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                """CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now(), checksum text)"""
            )
            for number, name, sql in _migrations():
                if number < 13:
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        number,
                        name,
                        checksum(sql),
                    )
            old = [event(1), event(2)]
            digests = [
                content_digest(
                    stream_id="probe-m",
                    version=i,
                    event_id=x.event_id,
                    event_type=x.event_type,
                    schema_version=x.schema_version,
                    payload=x.payload,
                    metadata=x.metadata,
                    occurred_at=x.occurred_at,
                )
                for i, x in enumerate(old, start=1)
            ]
            await conn.set_type_codec("jsonb", encoder=__import__("json").dumps, decoder=str, schema="pg_catalog")
            await conn.fetchrow(
                """SELECT * FROM pacte_append('probe-m', 'probe', 0, $1, $2, $3, $4, $5, $6, $7, NULL, NULL)""",
                [x.event_id for x in old],
                [x.event_type for x in old],
                [1, 1],
                [x.payload for x in old],
                [x.metadata for x in old],
                [x.occurred_at for x in old],
                digests,
            )
            assert "013_database_digests.sql" in await migrate(conn)
        finally:
            await conn.close()
        store = await EventStore.connect(url)
        try:
            await store.append("probe-m", 2, [event(3), event(4)])
            kept = await store.pool.fetch("SELECT canonical FROM events ORDER BY version")
            assert [r["canonical"] is None for r in kept] == [True, True, False, False]
            async with store.pool.acquire() as c:
                report = await verify(c)
                assert report.ok and report.events == 4, report
                async with c.transaction():
                    await c.execute("SET LOCAL session_replication_role = replica")
                    await c.execute("UPDATE events SET canonical = canonical || ' ' WHERE version = 3")
                report = await verify(c)
            assert report.first_problem is not None
            assert (report.first_problem.version, report.first_problem.reason.split(":")[0]) == (
                3,
                "canonical text altered",
            )
        finally:
            await store.close()
    finally:
        await drop_database(any_server_url, url)
