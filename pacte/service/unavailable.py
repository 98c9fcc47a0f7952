"""Which failures mean that PostgreSQL or Temporal is unreachable for a moment (restarting, a connection dropped):
the request did not get through and the caller sends it again, with its Idempotency-Key. The entry points answer
them 503 with the usual problem, never a bare 500 (issue 28's chaos run saw 40 of those while the parts restarted)."""

from __future__ import annotations

import asyncpg
from temporalio.service import RPCError, RPCStatusCode

STORE_DOWN: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,  # starting up, shutting down, recovering
    asyncpg.InterfaceError,  # "the underlying connection is closed"
    OSError,  # the server's socket gone while it restarts, a connection refused or reset
)
TEMPORAL_RPC = RPCError
_TEMPORAL_DOWN = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.UNKNOWN,  # the core SDK's "transport error" while the server restarts
        RPCStatusCode.CANCELLED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
    }
)


def temporal_down(error: RPCError) -> bool:
    """A Temporal call that failed because the server could not be reached (not because of what was asked)."""
    return error.status in _TEMPORAL_DOWN
