"""A fresh database for one benchmark run, on the given server or an embedded one, dropped afterwards."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from pacte.embedded import start_embedded_postgres, with_database


@asynccontextmanager
async def bench_database() -> AsyncIterator[tuple[str, asyncpg.Connection, str]]:
    """Yield (database URL, an admin connection to the server, which server) for PACTE_BENCH_DATABASE_URL, else
    PACTE_TEST_DATABASE_URL, else an embedded PostgreSQL in a temporary folder."""
    server = os.environ.get("PACTE_BENCH_DATABASE_URL") or os.environ.get("PACTE_TEST_DATABASE_URL")
    handle = None
    if not server:
        handle = start_embedded_postgres(Path(tempfile.mkdtemp(prefix="pacte-bench-")))
        server = handle.get_uri()  # type: ignore[attr-defined]
    name = f"pacte_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server, name), admin, "embedded" if handle else "PACTE_BENCH/TEST_DATABASE_URL"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        if handle is not None:
            handle.cleanup()  # type: ignore[attr-defined]
