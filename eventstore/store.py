"""Append and read events with asyncpg.

An append is one statement (``pacte_append``, one round trip and its own transaction): it checks the expected version
under the stream's row lock, takes each event from its canonical text, computes and chains the hashes itself, inserts,
moves the stream head and updates the read models (refusing rows the events do not justify). Appends
to different streams run concurrently (and commit together); followers read in (transaction, position) order below
the oldest transaction still running, so they never skip an event that commits later (DESIGN.md §4.3).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

import asyncpg
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from domain.events import Event
from domain.upcasting import parse_event_json
from eventstore.hashing import canonical_json, content_text_of_text, payload_digest, payload_digest_of_text
from eventstore.migrate import Conn, migrate
from eventstore.projections import ContractProjector
from eventstore.records import AppendResult, Cursor, NewEvent, RecordedEvent
from eventstore.resilience import TRANSIENT, retry_transient

EVENT_COLUMNS = """global_position, tx_id::text::bigint AS tx_id, stream_id, version, event_id, event_type,
                   schema_version, payload, metadata, occurred_at, recorded_at, prev_hash, hash"""
# Only transactions that have finished are below this: what a follower may read without ever skipping.
SAFE_TX = "pg_snapshot_xmin(pg_current_snapshot())"
_tracer = trace.get_tracer("pacte.eventstore")  # a no-op until the process installs a tracer provider
CHANNEL = "pacte_events"  # followers LISTEN here


class ConcurrencyError(Exception):
    """The stream moved on: a different event already sits at a version this append expected to write."""

    def __init__(self, stream_id: str, version: int, detail: str) -> None:
        super().__init__(f"stream {stream_id!r}, version {version}: {detail}")
        self.stream_id = stream_id
        self.version = version


class StoreDiverged(ConcurrencyError):
    """The stream is behind the version its writer expected: events the writer saw are gone, or the writer is ahead of
    the store (a store restored from an older backup). No retry can mend it: someone must look (README, "Event
    store")."""


class StoreConnection(asyncpg.Connection):
    """A pooled connection released without asyncpg's reset query.

    asyncpg sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` on every release: a second
    round trip for each append and read (measured: a plain INSERT through the default pool runs at 0.72 of the
    same INSERT without it). The store leaves no session state behind: cursors live inside transactions, the
    migration's advisory lock is released in ``finally``, a follower removes its listener before releasing, and we
    never SET a session variable. asyncpg still rolls back a transaction left open and drops the listeners."""

    def get_reset_query(self) -> str:
        return ""


async def init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def category_of(stream_id: str) -> str:
    return stream_id.split("-", 1)[0]


class EventStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.projector = ContractProjector()
        self._notifier: asyncio.Task[None] | None = None
        self._notify_again = False
        # A guard holds a connection for its whole block, and the work inside it needs connections of its own: with
        # as many guards as the pool has connections, every guard waited for a connection only a guard could free
        # (the chaos run's lock-up: ten proposals at once, ten connections idle in transaction). At most half the
        # pool holds guards; the rest wait here, holding nothing.
        self._guards = asyncio.Semaphore(max(1, pool.get_max_size() // 2))

    @classmethod
    async def connect(
        cls,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        apply_migrations: bool = True,
        statement_timeout_ms: int = 0,
        command_timeout: float | None = None,
        statement_cache_size: int = 100,
    ) -> EventStore:
        """A pool on ``dsn`` (TLS and the rest as libpq URL parameters: ``?sslmode=verify-full&sslrootcert=…``).
        ``statement_cache_size=0`` for PgBouncer's transaction pooling, where a prepared statement may land on
        another server connection; ``statement_timeout_ms`` bounds every statement on the server's side."""
        server_settings = {"statement_timeout": str(statement_timeout_ms)} if statement_timeout_ms else None
        pool = await retry_transient(
            lambda: asyncpg.create_pool(
                dsn,
                min_size=min_size,
                max_size=max_size,
                init=init_connection,
                connection_class=StoreConnection,
                command_timeout=command_timeout,
                statement_cache_size=statement_cache_size,
                server_settings=server_settings,
            )
        )
        assert pool is not None
        store = cls(pool)
        if apply_migrations:
            async with pool.acquire() as conn:
                await migrate(conn)
        return store

    async def close(self) -> None:
        if self._notifier is not None:
            await asyncio.gather(self._notifier, return_exceptions=True)
        await self.pool.close()

    def _wake_followers(self) -> None:
        """NOTIFY followers after a commit, outside the appending transaction, one notification per burst."""
        if self._notifier is not None and not self._notifier.done():
            self._notify_again = True
            return
        self._notifier = asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        while True:
            self._notify_again = False
            try:
                await self.pool.execute(f"NOTIFY {CHANNEL}")
            except TRANSIENT:
                return  # followers also poll: a lost wake-up only delays them
            if not self._notify_again:
                return

    async def append(self, stream_id: str, expected_version: int, events: Sequence[NewEvent]) -> AppendResult:
        """Append ``events`` at versions expected_version+1…, all or nothing.

        The same events again (same ids, same content, same versions) succeed without writing: Temporal retries
        activities. A different event at an existing version raises ConcurrencyError naming the stream and version.
        """
        if not events:
            return AppendResult(
                stream_id=stream_id, version=expected_version, first_position=None, already_appended=False
            )
        span = _tracer.start_as_current_span(
            "pacte_append",
            kind=SpanKind.CLIENT,
            attributes={"db.system": "postgresql", "db.operation": "SELECT pacte_append", "pacte.stream_id": stream_id},
        )
        try:
            with span:
                return await retry_transient(lambda: self._append_once(stream_id, expected_version, events))
        except BaseException:
            self.projector.forget(stream_id)
            raise

    async def _append_once(self, stream_id: str, expected_version: int, events: Sequence[NewEvent]) -> AppendResult:
        projected = None
        summary: str | None = None
        axis: str | None = None
        if self.projector.handles(stream_id):
            before, projected = await self.projector.next_state(self.pool, stream_id, expected_version, events)
            if projected.kind is None:  # not a contract's history (the append will be refused): nothing to project
                projected = None
            elif projected.contract_id != stream_id:
                # A copy of a contract's events under another stream (tests of tampering do this): its rows are the
                # contract's own stream's, and the database refuses a row for another stream (migration 008).
                projected = None
            else:
                summary, axis = self.projector.rows(projected, before)
        # Each payload and metadata serialised once, canonically, into the event's canonical text: the database takes
        # every column from it and hashes it itself (migration 013).
        payloads = [canonical_json(e.payload) for e in events]
        texts = [
            content_text_of_text(
                stream_id=stream_id,
                version=expected_version + offset,
                event_id=e.event_id,
                event_type=e.event_type,
                schema_version=e.schema_version,
                payload_json=payload_json,
                metadata_json=canonical_json(e.metadata),
                occurred_at=e.occurred_at,
            )
            for offset, (e, payload_json) in enumerate(zip(events, payloads, strict=True), 1)
        ]
        try:
            row = await self.pool.fetchrow(
                "SELECT * FROM pacte_append($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb)",
                stream_id,
                category_of(stream_id),
                expected_version,
                texts,
                summary,
                axis,
            )
        except asyncpg.UniqueViolationError:
            # Two writers created the same stream at once: the other committed first.
            return await self._replayed_or_conflict(stream_id, expected_version, events)
        assert row is not None
        if row["outcome"] == "moved":
            self.projector.forget(stream_id)
            return await self._replayed_or_conflict(stream_id, expected_version, events)
        if projected is not None:
            self.projector.committed(projected)
        self._wake_followers()
        return AppendResult(
            stream_id=stream_id,
            version=row["stream_version"],
            first_position=row["first_position"],
            already_appended=False,
            stored=[
                payload_digest_of_text(e.event_type, expected_version + i, payload_json)
                for i, (e, payload_json) in enumerate(zip(events, payloads, strict=True), start=1)
            ],
        )

    async def _replayed_or_conflict(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendResult:
        current = await self.stream_version(stream_id)
        last = expected_version + len(events)
        if current < expected_version:
            raise StoreDiverged(
                stream_id,
                expected_version,
                f"the writer expected version {expected_version}, but the stream ends at version {current}: the store "
                "no longer holds what its writer saw",
            )
        if current < last:
            raise ConcurrencyError(
                stream_id,
                expected_version + 1,
                f"expected version {expected_version}, but the stream is at version {current}",
            )
        stored = await self.pool.fetch(
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
        return AppendResult(
            stream_id=stream_id,
            version=last,
            first_position=None,
            already_appended=True,
            stored=[payload_digest(r["event_type"], r["version"], r["payload"]) for r in stored],
        )

    async def read_stream(
        self, stream_id: str, *, up_to_version: int | None = None, as_of: datetime | None = None
    ) -> list[RecordedEvent]:
        """A stream in version order: whole, up to a version, or as known at a business time (``occurred_at``)."""
        rows = await retry_transient(
            lambda: self.pool.fetch(
                f"""SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1
                     AND ($2::int IS NULL OR version <= $2) AND ($3::timestamptz IS NULL OR occurred_at <= $3)
                   ORDER BY version""",
                stream_id,
                up_to_version,
                as_of,
            )
        )
        return [_record(row) for row in rows]

    async def load_events(
        self, stream_id: str, *, as_of: datetime | None = None, after_version: int = 0
    ) -> list[Event]:
        """A stream's domain events, parsed straight from PostgreSQL's JSON text (the replay's fast path); with
        ``after_version``, only those after it (a reader that already folded the rest)."""
        rows = await retry_transient(
            lambda: self.pool.fetch(
                """SELECT event_type, schema_version, payload::text AS payload FROM events
                   WHERE stream_id = $1 AND version > $3 AND ($2::timestamptz IS NULL OR occurred_at <= $2)
                   ORDER BY version""",
                stream_id,
                as_of,
                after_version,
            )
        )
        return [parse_event_json(r["payload"], r["event_type"], r["schema_version"]) for r in rows]

    async def iter_stream(self, stream_id: str, *, prefetch: int = 500) -> AsyncIterator[RecordedEvent]:
        """A stream in version order through a server-side cursor: memory stays bounded for any length."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            async for row in conn.cursor(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY version",
                stream_id,
                prefetch=prefetch,
            ):
                yield _record(row)

    async def read_all(
        self,
        after: Cursor | None = None,
        limit: int = 1000,
        *,
        categories: Sequence[str] | None = None,
        event_types: Sequence[str] | None = None,
    ) -> list[RecordedEvent]:
        """Events after ``after`` in the global order, optionally of some categories or event types.

        Pass the last event's ``cursor`` to get the next page: nothing is ever skipped or returned twice, even when
        appends commit in a different order than they started.
        """
        return await retry_transient(
            lambda: fetch_after(self.pool, after or Cursor(), limit, categories=categories, event_types=event_types)
        )

    async def iter_all(
        self, batch: int = 1000, *, categories: Sequence[str] | None = None, event_types: Sequence[str] | None = None
    ) -> AsyncIterator[RecordedEvent]:
        """Every committed event in the global order, page by page: memory stays bounded whatever the store's size."""
        cursor = Cursor()
        while page := await self.read_all(cursor, batch, categories=categories, event_types=event_types):
            for event in page:
                yield event
            cursor = page[-1].cursor

    async def head(self) -> Cursor:
        """The last position every reader may see now: all before it is committed, nothing will land behind it."""
        row = await retry_transient(
            lambda: self.pool.fetchrow(
                f"""SELECT tx_id::text AS tx, global_position FROM events WHERE tx_id < {SAFE_TX}
                    ORDER BY tx_id DESC, global_position DESC LIMIT 1"""
            )
        )
        return Cursor(tx=int(row["tx"]), position=row["global_position"]) if row else Cursor()

    async def export_all(self, upto: Cursor, *, batch: int = 1000) -> AsyncIterator[RecordedEvent]:
        """Every event up to ``upto`` in the global order, page by page, each page its own short read: no
        transaction is held while the caller sends the rows, and what is appended meanwhile lies beyond ``upto``
        (a transaction still running when ``upto`` was taken commits beyond it), so nothing is missed or doubled."""
        cursor = Cursor()
        limit = (upto.tx, upto.position)
        while page := await self.read_all(cursor, batch):
            for event in page:
                if (event.cursor.tx, event.cursor.position) > limit:
                    return
                yield event
            cursor = page[-1].cursor

    async def export_stream(
        self, stream_id: str, upto_version: int, *, batch: int = 1000
    ) -> AsyncIterator[RecordedEvent]:
        """One stream up to a version, page by page by version, each page its own short read."""
        after = 0
        while after < upto_version:
            rows = await retry_transient(
                lambda start=after: self.pool.fetch(  # type: ignore[misc]
                    f"""SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND version > $2 AND version <= $3
                        ORDER BY version LIMIT $4""",
                    stream_id,
                    start,
                    upto_version,
                    batch,
                )
            )
            if not rows:
                return
            for row in rows:
                yield _record(row)
            after = rows[-1]["version"]

    @asynccontextmanager
    async def territory_guard(self, territory_key: str) -> AsyncIterator[None]:
        """Hold the territory's guard: while it is held nobody else (in this process or another on the same database)
        may check and create a contract for ``territory_key`` (its first contract id, ``cls-<siren>``). It is a
        transaction-scoped advisory lock on a connection of its own: PostgreSQL releases it when the block ends, when
        it raises, and when the connection is lost, so no guard outlives its holder; it writes nothing and takes no
        transaction id (readers following the global position are not held back)."""
        async with self._guards, self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"pacte.territory:{territory_key}"
            )
            yield

    async def streams_with_history(self, stream_ids: Sequence[str]) -> set[str]:
        """Those of ``stream_ids`` that hold at least one event (one query)."""
        rows = await retry_transient(
            lambda: self.pool.fetch(
                "SELECT stream_id FROM streams WHERE stream_id = ANY($1::text[]) AND version > 0", list(stream_ids)
            )
        )
        return {row["stream_id"] for row in rows}

    async def put_import_file(self, contract_id: str, content: str) -> str:
        """Keep a contract's import file under its SHA-256 (hex) and return it; the same file again is one row."""
        digest = hashlib.sha256(content.encode()).hexdigest()
        await retry_transient(
            lambda: self.pool.execute(
                """INSERT INTO import_files (digest, contract_id, content) VALUES ($1, $2, $3)
                   ON CONFLICT (digest) DO NOTHING""",
                digest,
                contract_id,
                content,
            )
        )
        return digest

    async def import_file(self, digest: str) -> tuple[str, str] | None:
        """The (contract id, content) kept under ``digest``, or None."""
        row = await retry_transient(
            lambda: self.pool.fetchrow("SELECT contract_id, content FROM import_files WHERE digest = $1", digest)
        )
        return None if row is None else (row["contract_id"], row["content"])

    async def stream_version(self, stream_id: str) -> int:
        version: int | None = await retry_transient(
            lambda: self.pool.fetchval("SELECT version FROM streams WHERE stream_id = $1", stream_id)
        )
        return version or 0

    async def add_reminder(self, contract_id: str, deadline: str, year: int | None, due: date, remind_on: date) -> bool:
        status: str = await retry_transient(
            lambda: self.pool.execute(
                """INSERT INTO reminders (contract_id, deadline, year, due, remind_on) VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT DO NOTHING""",
                contract_id,
                deadline,
                year or 0,
                due,
                remind_on,
            )
        )
        return status.endswith(" 1")

    async def list_reminders(self, contract_id: str | None = None) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            """SELECT contract_id, deadline, NULLIF(year, 0) AS year, due, remind_on, created_at, sent_at
               FROM reminders WHERE ($1::text IS NULL OR contract_id = $1) ORDER BY due, contract_id, deadline""",
            contract_id,
        )
        return [dict(row) for row in rows]

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
    after: Cursor,
    limit: int,
    *,
    categories: Sequence[str] | None = None,
    event_types: Sequence[str] | None = None,
) -> list[RecordedEvent]:
    rows = await conn.fetch(
        f"""SELECT {EVENT_COLUMNS} FROM events
            WHERE (tx_id, global_position) > ($1::text::xid8, $2) AND tx_id < {SAFE_TX}
              AND ($4::text[] IS NULL OR split_part(stream_id, '-', 1) = ANY($4))
              AND ($5::text[] IS NULL OR event_type = ANY($5))
            ORDER BY tx_id, global_position LIMIT $3""",
        str(after.tx),
        after.position,
        limit,
        list(categories) if categories is not None else None,
        list(event_types) if event_types is not None else None,
    )
    return [_record(row) for row in rows]
