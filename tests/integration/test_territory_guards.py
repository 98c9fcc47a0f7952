"""More proposals at once than the pool has connections never lock the store up (found by the chaos run, issue 28).

A territory's guard holds a connection for its whole block and the work inside needs connections of its own: with as
many guards as connections, each guard waited for a connection only another guard could free — ten proposals at
once left all ten connections idle in transaction, for good.
"""

from __future__ import annotations

import asyncio

import pytest

from eventstore.store import EventStore
from tests.conftest import create_fresh_database, drop_database

pytestmark = pytest.mark.integration


async def test_more_guarded_blocks_than_connections_all_complete(postgres_server_url: str) -> None:
    url = await create_fresh_database(postgres_server_url)
    store = await EventStore.connect(url, min_size=1, max_size=4)
    try:

        async def propose_like(n: int) -> int:
            async with store.territory_guard(f"cls-d{n:02d}"):
                await asyncio.sleep(0)  # let the others take their guards first, as concurrent requests do
                return await store.stream_version(f"cls-d{n:02d}")  # a second connection, as a proposal needs

        async with asyncio.timeout(60):
            assert await asyncio.gather(*(propose_like(n) for n in range(12))) == [0] * 12
    finally:
        await store.close()
        await drop_database(postgres_server_url, url)
