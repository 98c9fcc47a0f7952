"""Versioned migrations, applied at start, idempotently, under an advisory lock (two starters never race)."""

from __future__ import annotations

import hashlib
import logging
from importlib import resources

import asyncpg
from asyncpg.pool import PoolConnectionProxy

MIGRATION_LOCK = 0x5041_4354  # "PACT"

Conn = asyncpg.Connection | PoolConnectionProxy
log = logging.getLogger("pacte.eventstore")


class MigrationChanged(RuntimeError):
    """A migration applied to this database was changed since: its objects may differ from what the code expects."""


def checksum(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


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
        await conn.execute("ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text")
        done = {
            row["version"]: row["checksum"]
            for row in await conn.fetch("SELECT version, checksum FROM schema_migrations")
        }
        for number, name, sql in _migrations():
            if number in done:
                recorded = done[number]
                if recorded is None:  # applied before checksums were kept: this file's is taken as the reference
                    log.warning("migration %s had no checksum; recording the current file's", name)
                    await conn.execute(
                        "UPDATE schema_migrations SET checksum = $2 WHERE version = $1", number, checksum(sql)
                    )
                elif recorded != checksum(sql):
                    raise MigrationChanged(
                        f"migration {name} was changed after it was applied to this database (checksum "
                        f"{recorded[:12]}… recorded, {checksum(sql)[:12]}… now): its objects may differ from what the "
                        "code expects. Restore the file as it was, and put the change in a new migration."
                    )
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    number,
                    name,
                    checksum(sql),
                )
            applied_now.append(name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    return applied_now


async def check_current(conn: Conn) -> None:
    """For a role that may not migrate: every migration applied, none changed since; otherwise stop, saying so."""
    recorded = {
        r["version"]: r["checksum"] for r in await conn.fetch("SELECT version, checksum FROM schema_migrations")
    }
    for number, name, sql in _migrations():
        if number not in recorded:
            raise MigrationChanged(f"migration {name} is not applied to this database: run `pacte migrate` first")
        if recorded[number] is not None and recorded[number] != checksum(sql):
            raise MigrationChanged(f"migration {name} was changed after it was applied to this database")
