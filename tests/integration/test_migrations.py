"""Migrations carry checksums: a migration changed after it was applied stops start-up with a clear message."""

from __future__ import annotations

import pytest

from eventstore.migrate import MigrationChanged, _migrations, checksum, migrate
from eventstore.store import EventStore

pytestmark = pytest.mark.integration


async def test_applied_migrations_are_checked_against_their_files(fresh_store: EventStore) -> None:
    async with fresh_store.pool.acquire() as conn:
        assert await migrate(conn) == []  # idempotent
        rows = {
            r["version"]: r["checksum"] for r in await conn.fetch("SELECT version, checksum FROM schema_migrations")
        }
        assert rows == {number: checksum(sql) for number, _, sql in _migrations()}
        # A database created before checksums: the current files are taken as the reference, once.
        await conn.execute("UPDATE schema_migrations SET checksum = NULL WHERE version = 1")
        assert await migrate(conn) == []
        assert await conn.fetchval("SELECT checksum FROM schema_migrations WHERE version = 1") == rows[1]
        # A migration rewritten after it was applied here: start-up stops, naming it.
        await conn.execute("UPDATE schema_migrations SET checksum = 'f00' WHERE version = 2")
        with pytest.raises(MigrationChanged, match="002_") as info:
            await migrate(conn)
        assert "new migration" in str(info.value)
