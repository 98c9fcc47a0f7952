"""Versioned migrations, applied at start, idempotently, under an advisory lock (two starters never race)."""

from __future__ import annotations

from importlib import resources

import asyncpg
from asyncpg.pool import PoolConnectionProxy

MIGRATION_LOCK = 0x5041_4354  # "PACT"

Conn = asyncpg.Connection | PoolConnectionProxy


def _migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("eventstore") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number = int(entry.name.split("_", 1)[0])
            found.append((number, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


async def migrate(conn: Conn) -> list[str]:
    """Apply the migrations not yet applied; return the names of those applied now."""
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = {row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")}
        for number, name, sql in _migrations():
            if number in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", number, name)
            applied_now.append(name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    return applied_now
