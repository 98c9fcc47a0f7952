"""Catch-up subscriptions: a named consumer follows the global order from its checkpoint.

The checkpoint is stored in the same transaction as the consumer's effects, so a consumer that crashes resumes
exactly where it was: no event lost, none applied twice. LISTEN/NOTIFY wakes it when events are appended; polling
is the fallback when a notification is missed (a dropped connection, a server restart).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from asyncpg.pool import PoolConnectionProxy

from eventstore.migrate import Conn
from eventstore.records import Cursor, RecordedEvent
from eventstore.resilience import TRANSIENT, retry_transient
from eventstore.store import CHANNEL, EventStore, fetch_after

Handler = Callable[[Conn, list[RecordedEvent]], Awaitable[None]]


class CatchUpSubscription:
    def __init__(
        self,
        store: EventStore,
        name: str,
        handler: Handler,
        *,
        categories: Sequence[str] | None = None,
        event_types: Sequence[str] | None = None,
        batch: int = 500,
        poll_interval: float = 2.0,
    ) -> None:
        self.store = store
        self.name = name
        self.handler = handler
        self.categories = categories
        self.event_types = event_types
        self.batch = batch
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()

    async def position(self) -> Cursor:
        row = await self.store.pool.fetchrow(
            "SELECT tx_id, position FROM subscription_checkpoints WHERE name = $1", self.name
        )
        return Cursor(tx=row["tx_id"], position=row["position"]) if row else Cursor()

    async def catch_up_once(self) -> int:
        """Handle one batch after the checkpoint, in one transaction with the checkpoint; return how many."""

        async def attempt() -> int:
            async with self.store.pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    """INSERT INTO subscription_checkpoints (name, tx_id, position) VALUES ($1, 0, 0)
                       ON CONFLICT DO NOTHING""",
                    self.name,
                )
                # FOR UPDATE: two processes running the same subscription take turns instead of doubling effects.
                row = await conn.fetchrow(
                    "SELECT tx_id, position FROM subscription_checkpoints WHERE name = $1 FOR UPDATE", self.name
                )
                assert row is not None  # inserted just above, and never deleted
                after = Cursor(tx=row["tx_id"], position=row["position"])
                events = await fetch_after(
                    conn, after, self.batch, categories=self.categories, event_types=self.event_types
                )
                if not events:
                    return 0
                await self.handler(conn, events)
                await conn.execute(
                    "UPDATE subscription_checkpoints SET tx_id = $2, position = $3, updated_at = now() WHERE name = $1",
                    self.name,
                    events[-1].tx_id,
                    events[-1].global_position,
                )
                return len(events)

        return await retry_transient(attempt)

    async def catch_up(self) -> int:
        total = 0
        while handled := await self.catch_up_once():
            total += handled
        return total

    def _notified(self, *_: Any) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the store until ``stop`` is set."""
        listener: PoolConnectionProxy | None = None
        try:
            while not stop.is_set():
                if listener is None or listener.is_closed():
                    if listener is not None:
                        await self._release(listener)
                    listener = await self._listen()
                self._wake.clear()
                await self.catch_up()
                waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
                await asyncio.wait(waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
        finally:
            if listener is not None:
                await self._release(listener)

    async def _release(self, listener: PoolConnectionProxy) -> None:
        with contextlib.suppress(*TRANSIENT):
            if not listener.is_closed():
                await listener.remove_listener(CHANNEL, self._notified)
            await self.store.pool.release(listener)

    async def _listen(self) -> PoolConnectionProxy | None:
        try:
            conn = await self.store.pool.acquire()
            await conn.add_listener(CHANNEL, self._notified)
            return conn
        except TRANSIENT:
            return None  # polling still works; listening is retried on the next turn
