"""Web sessions kept server-side, in PostgreSQL (schema pacte_auth): opened at sign-in, checked on every request,
ended at sign-out. The cookie holds a random id; the table holds its SHA-256 only."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Protocol

from eventstore.store import EventStore


class Running(Protocol):
    """The running service (pacte.service.facade.Pacte), as far as sessions need it."""

    @property
    def store(self) -> EventStore: ...


def _hash(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode()).digest()


async def open_session(service: Running, *, sub: str, grant_id: str | None, expires_at: datetime) -> str:
    """A new session; return its id (for the cookie only)."""
    session_id = secrets.token_urlsafe(32)
    await service.store.pool.execute(
        "INSERT INTO pacte_auth.sessions (session_hash, sub, grant_id, expires_at) VALUES ($1, $2, $3, $4)",
        _hash(session_id),
        sub,
        grant_id,
        expires_at,
    )
    return session_id


async def alive(service: Running, session_id: str) -> bool:
    """Known here, not ended, not expired (the database's clock decides, the same for every process)."""
    found = await service.store.pool.fetchval(
        """SELECT 1 FROM pacte_auth.sessions
           WHERE session_hash = $1 AND ended_at IS NULL AND expires_at > now()""",
        _hash(session_id),
    )
    return found is not None


async def lapsed(service: Running, session_id: str, sub: str) -> bool:
    """A session that really existed here for ``sub`` and ran out of time — not ended (sign-out, a revoked grant, a
    new sign-in) and not unknown: the only one whose unsent form may be kept for its person (pacte.web.drafts)."""
    found = await service.store.pool.fetchval(
        """SELECT 1 FROM pacte_auth.sessions
           WHERE session_hash = $1 AND sub = $2 AND ended_at IS NULL AND expires_at <= now()""",
        _hash(session_id),
        sub,
    )
    return found is not None


async def end(service: Running, session_id: str, why: str) -> None:
    await service.store.pool.execute(
        "UPDATE pacte_auth.sessions SET ended_at = now(), ended_why = $2 WHERE session_hash = $1 AND ended_at IS NULL",
        _hash(session_id),
        why,
    )
