"""Append and read events with asyncpg.

Appends take one transaction-scoped advisory lock, so global positions become visible in the order they are
assigned: a follower reading by position can never skip an event that commits later (DESIGN.md §4.3).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from domain.state import ContractState
from eventstore.hashing import GENESIS, canonical_bytes, chain
from eventstore.migrate import Conn, migrate
from eventstore.projections import ContractProjector
from eventstore.records import AppendResult, NewEvent, RecordedEvent
from eventstore.resilience import retry_transient

APPEND_LOCK = 0x5041_4345  # "PACE": serialises appends so positions commit in order


class ConcurrencyError(Exception):
    """The stream moved on: a different event already sits at a version this append expected to write."""

    def __init__(self, stream_id: str, version: int, detail: str) -> None:
        super().__init__(f"stream {stream_id!r}, version {version}: {detail}")
        self.stream_id = stream_id
        self.version = version


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def category_of(stream_id: str) -> str:
    return stream_id.split("-", 1)[0]


class EventStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.projector = ContractProjector()

    @classmethod
    async def connect(
        cls, dsn: str, *, min_size: int = 1, max_size: int = 10, apply_migrations: bool = True
    ) -> EventStore:
        pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection)
        store = cls(pool)
        if apply_migrations:
            async with pool.acquire() as conn:
                await migrate(conn)
        return store

    async def close(self) -> None:
        await self.pool.close()

    async def append(self, stream_id: str, expected_version: int, events: Sequence[NewEvent]) -> AppendResult:
        """Append ``events`` at versions expected_version+1… in one transaction.

        The same events again (same ids at the same versions) succeed without writing: Temporal retries activities.
        A different event at an existing version raises ConcurrencyError naming the stream and version.
        """
        if not events:
            return AppendResult(
                stream_id=stream_id, version=expected_version, first_position=None, already_appended=False
            )
        projected: list[ContractState] = []
        try:
            result = await retry_transient(lambda: self._append_once(stream_id, expected_version, events, projected))
        except BaseException:
            self.projector.forget(stream_id)
            raise
        if projected:
            self.projector.committed(projected[-1])  # only once the transaction has committed
        return result

    async def _append_once(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent], projected: list[ContractState]
    ) -> AppendResult:
        projected.clear()
        async with self.pool.acquire() as conn, conn.transaction():
            recorded_at: datetime = await conn.fetchval(
                "SELECT clock_timestamp() FROM (SELECT pg_advisory_xact_lock($1)) AS locked", APPEND_LOCK
            )
            head = await conn.fetchrow("SELECT version, head_hash FROM streams WHERE stream_id = $1", stream_id)
            current = head["version"] if head else 0
            if current != expected_version:
                return await self._replayed_or_conflict(conn, stream_id, expected_version, current, events)
            prev_hash: bytes = head["head_hash"] if head else GENESIS
            rows: list[tuple[Any, ...]] = []
            for offset, event in enumerate(events, start=1):
                version = expected_version + offset
                digest = chain(
                    prev_hash,
                    canonical_bytes(
                        stream_id=stream_id,
                        version=version,
                        event_id=event.event_id,
                        event_type=event.event_type,
                        schema_version=event.schema_version,
                        payload=event.payload,
                        metadata=event.metadata,
                        occurred_at=event.occurred_at,
                        recorded_at=recorded_at,
                    ),
                )
                rows.append(
                    (
                        stream_id,
                        version,
                        event.event_id,
                        event.event_type,
                        event.schema_version,
                        event.payload,
                        event.metadata,
                        event.occurred_at,
                        recorded_at,
                        prev_hash,
                        digest,
                    )
                )
                prev_hash = digest
            positions = await conn.fetch(
                """INSERT INTO events (stream_id, version, event_id, event_type, schema_version, payload, metadata,
                                       occurred_at, recorded_at, prev_hash, hash)
                   SELECT * FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::int[], $6::jsonb[],
                                        $7::jsonb[], $8::timestamptz[], $9::timestamptz[], $10::bytea[], $11::bytea[])
                   RETURNING global_position""",
                *[list(column) for column in zip(*rows, strict=True)],
            )
            new_version = expected_version + len(events)
            if self.projector.handles(stream_id):
                projected.append(
                    await self.projector.apply(conn, stream_id, expected_version, [e.payload for e in events])
                )
            await conn.execute(
                """INSERT INTO streams (stream_id, category, version, head_hash, updated_at)
                   VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (stream_id) DO UPDATE
                   SET version = EXCLUDED.version, head_hash = EXCLUDED.head_hash, updated_at = EXCLUDED.updated_at""",
                stream_id,
                category_of(stream_id),
                new_version,
                prev_hash,
                recorded_at,
            )
            return AppendResult(
                stream_id=stream_id,
                version=new_version,
                first_position=min(row["global_position"] for row in positions),
                already_appended=False,
            )

    async def _replayed_or_conflict(
        self,
        conn: Conn,
        stream_id: str,
        expected_version: int,
        current: int,
        events: Sequence[NewEvent],
    ) -> AppendResult:
        last = expected_version + len(events)
        if current < last:
            missing = current + 1 if current > expected_version else expected_version
            raise ConcurrencyError(
                stream_id,
                missing,
                f"expected version {expected_version}, but the stream is at version {current}",
            )
        stored = await conn.fetch(
            """SELECT version, event_id, event_type, payload FROM events
               WHERE stream_id = $1 AND version > $2 AND version <= $3 ORDER BY version""",
            stream_id,
            expected_version,
            last,
        )
        for row, event in zip(stored, events, strict=True):
            # Ids derive from (stream, version), so the content decides: only the very same event is a retry.
            same = (row["event_id"], row["event_type"], row["payload"]) == (
                event.event_id,
                event.event_type,
                event.payload,
            )
            if not same:
                raise ConcurrencyError(
                    stream_id, row["version"], f"another event ({row['event_type']}) is already stored at this version"
                )
        return AppendResult(stream_id=stream_id, version=last, first_position=None, already_appended=True)

    async def read_stream(
        self, stream_id: str, *, up_to_version: int | None = None, as_of: datetime | None = None
    ) -> list[RecordedEvent]:
        """A stream in version order: whole, up to a version, or as known at a business time (``occurred_at``)."""
        rows = await retry_transient(
            lambda: self.pool.fetch(
                """SELECT * FROM events WHERE stream_id = $1
                 AND ($2::int IS NULL OR version <= $2) AND ($3::timestamptz IS NULL OR occurred_at <= $3)
               ORDER BY version""",
                stream_id,
                up_to_version,
                as_of,
            )
        )
        return [_record(row) for row in rows]

    async def read_all(
        self,
        from_position: int = 0,
        limit: int = 1000,
        *,
        categories: Sequence[str] | None = None,
        event_types: Sequence[str] | None = None,
    ) -> list[RecordedEvent]:
        """Events after ``from_position`` in global order, optionally of some categories or event types.

        Appends are serialised, so positions become visible in order: a follower that remembers the last position it
        saw never skips an event that commits later.
        """
        return await retry_transient(
            lambda: fetch_after(self.pool, from_position, limit, categories=categories, event_types=event_types)
        )

    async def iter_all(
        self, batch: int = 1000, *, categories: Sequence[str] | None = None, event_types: Sequence[str] | None = None
    ) -> AsyncIterator[RecordedEvent]:
        """Every event in global order, fetched page by page: memory stays bounded whatever the store's size."""
        position = 0
        while page := await self.read_all(position, batch, categories=categories, event_types=event_types):
            for event in page:
                yield event
            position = page[-1].global_position

    async def iter_stream(self, stream_id: str, *, prefetch: int = 500) -> AsyncIterator[RecordedEvent]:
        """A stream in version order through a server-side cursor: memory stays bounded for any length."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            async for row in conn.cursor(
                "SELECT * FROM events WHERE stream_id = $1 ORDER BY version", stream_id, prefetch=prefetch
            ):
                yield _record(row)

    async def stream_version(self, stream_id: str) -> int:
        version: int | None = await retry_transient(
            lambda: self.pool.fetchval("SELECT version FROM streams WHERE stream_id = $1", stream_id)
        )
        return version or 0

    async def list_streams(self, category: str | None = None) -> list[tuple[str, int]]:
        rows = await self.pool.fetch(
            "SELECT stream_id, version FROM streams WHERE ($1::text IS NULL OR category = $1) ORDER BY stream_id",
            category,
        )
        return [(row["stream_id"], row["version"]) for row in rows]


def _record(row: asyncpg.Record) -> RecordedEvent:
    return RecordedEvent(**dict(row))


async def fetch_after(
    conn: Conn | asyncpg.Pool,
    position: int,
    limit: int,
    *,
    categories: Sequence[str] | None = None,
    event_types: Sequence[str] | None = None,
) -> list[RecordedEvent]:
    rows = await conn.fetch(
        """SELECT * FROM events
           WHERE global_position > $1
             AND ($3::text[] IS NULL OR split_part(stream_id, '-', 1) = ANY($3))
             AND ($4::text[] IS NULL OR event_type = ANY($4))
           ORDER BY global_position LIMIT $2""",
        position,
        limit,
        list(categories) if categories is not None else None,
        list(event_types) if event_types is not None else None,
    )
    return [_record(row) for row in rows]
