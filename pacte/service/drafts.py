"""Forms typed when a session ended: kept server-side (PostgreSQL, schema pacte_auth) for the person who typed them,
until they sign in again and the form comes back filled. A draft is no fact: nothing is recorded until the person
sends the form again. Its id travels in the sign-in link; the table keeps its SHA-256 only, for an hour, and a draft
is given back once."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta

from pacte.service.sessions import Running

KEPT_FOR = timedelta(hours=1)
MAX_FIELDS = 2_000  # a form's inputs: the largest (a committee review of 200 fiches) has far fewer


def _hash(draft_id: str) -> bytes:
    return hashlib.sha256(draft_id.encode()).digest()


async def keep(service: Running, *, sub: str, path: str, fields: dict[str, str]) -> str:
    """Keep what ``sub`` typed in the form at ``path``; return the draft's id (for the sign-in link only)."""
    draft_id = secrets.token_urlsafe(24)
    kept = dict(list(fields.items())[:MAX_FIELDS])
    await service.store.pool.execute("DELETE FROM pacte_auth.form_drafts WHERE expires_at <= now()")  # the old ones
    await service.store.pool.execute(
        """INSERT INTO pacte_auth.form_drafts (draft_hash, sub, path, fields, expires_at)
           VALUES ($1, $2, $3, $4::text::jsonb, now() + $5::interval)""",
        _hash(draft_id),
        sub,
        path,
        json.dumps(kept),
        KEPT_FOR,
    )
    return draft_id


async def take(service: Running, draft_id: str, *, sub: str, path: str) -> dict[str, str] | None:
    """The draft, once, if it is this person's, for this form, and not expired (the database's clock decides)."""
    row = await service.store.pool.fetchval(
        """DELETE FROM pacte_auth.form_drafts
           WHERE draft_hash = $1 AND sub = $2 AND path = $3 AND expires_at > now()
           RETURNING fields::text""",
        _hash(draft_id),
        sub,
        path,
    )
    if row is None:
        return None
    fields = json.loads(row)
    return {str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else None
