"""Transient connection errors are retried: a pooled connection dies with a PostgreSQL restart, a failover, a blip.

Retrying an append is safe: the same events again are answered "already appended".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

T = TypeVar("T")
log = logging.getLogger("pacte.eventstore")

TRANSIENT: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # includes ConnectionDoesNotExistError, ConnectionFailureError
    asyncpg.CannotConnectNowError,  # the server is starting up or shutting down
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.InterfaceError,  # "connection is closed" and friends
    asyncpg.InternalClientError,  # a pooled connection's protocol state after a PostgreSQL restart (the chaos run)
    asyncpg.SerializationError,  # a concurrent transaction won: the same statement again will do
    asyncpg.DeadlockDetectedError,
    asyncpg.QueryCanceledError,  # statement_timeout (or a lock wait cut short): the same statement later may pass
    TimeoutError,  # the client's command timeout
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
)


async def retry_transient(
    operation: Callable[[], Awaitable[T]], *, attempts: int = 8, first_delay: float = 0.1, max_delay: float = 2.0
) -> T:
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return await operation()
        except TRANSIENT as exc:
            if attempt == attempts:
                raise
            log.warning("transient database error, retrying", extra={"attempt": attempt, "error": repr(exc)})
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
    raise AssertionError("unreachable")  # pragma: no cover
