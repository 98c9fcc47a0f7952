"""The runtime role (what the API and the worker need) reads, appends through pacte_append and writes the outbox;
it cannot update, delete or truncate an event, nor disable or drop the append-only trigger, nor the chain's heads."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import asyncpg
import pytest

from eventstore.records import NewEvent
from eventstore.store import EventStore
from pacte.embedded import with_database
from pacte.runtime import runtime_url_for

pytestmark = pytest.mark.integration


async def test_the_runtime_role_appends_and_reads_but_cannot_rewrite_history(
    fresh_store: EventStore, any_server_url: str
) -> None:
    database = await fresh_store.pool.fetchval("SELECT current_database()")
    runtime = await EventStore.connect(runtime_url_for(with_database(any_server_url, database)), apply_migrations=False)
    try:
        event = NewEvent(event_id=uuid.uuid4(), event_type="Noted", payload={"n": 1}, occurred_at=datetime.now(UTC))
        assert (await runtime.append("probe-runtime", 0, [event])).version == 1  # through pacte_append
        assert [e.version for e in await runtime.read_stream("probe-runtime")] == [1]
        assert await runtime.add_reminder("cls-d33", "renewal", 2025, date(2024, 12, 31), date(2024, 11, 1))
        async with runtime.pool.acquire() as conn:
            assert await conn.fetchval("SELECT current_user") == "pacte_runtime"
            for statement in (
                "UPDATE events SET payload = '{}'::jsonb",
                "DELETE FROM events",
                "TRUNCATE events",
                "ALTER TABLE events DISABLE TRIGGER events_append_only",
                "DROP TRIGGER events_append_only ON events",
                "UPDATE streams SET version = 0",
                "INSERT INTO events (stream_id) VALUES ('x')",
                "DELETE FROM schema_migrations",
            ):
                with pytest.raises(
                    (asyncpg.InsufficientPrivilegeError, asyncpg.exceptions.UndefinedColumnError)
                ) as info:
                    await conn.execute(statement)
                assert isinstance(info.value, asyncpg.InsufficientPrivilegeError), statement
    finally:
        await runtime.close()


async def test_the_embedded_stack_runs_as_the_runtime_role_and_migrates_as_the_owner(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pacte.runtime import open_store
    from pacte.settings import Settings

    settings = Settings(data_dir=tmp_path / "data")
    async with open_store(settings) as store:  # what `pacte dev`, `pacte api` and `pacte worker` open
        assert await store.pool.fetchval("SELECT current_user") == "pacte_runtime"
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await store.pool.execute("DELETE FROM events")
    async with open_store(settings, as_owner=True) as store:  # `pacte migrate`, local administration
        assert await store.pool.fetchval("SELECT current_user") != "pacte_runtime"
