"""Bearer tokens: a JSON file of hashed tokens (never the tokens themselves), each mapped to an actor.

A token is shown once, when it is added; the file holds its SHA-256 only, so a leaked file grants nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from domain.actors import Actor, Role


class TokenEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    token_id: str
    sha256: str
    actor: Actor
    created_at: datetime
    expires_at: datetime | None = None


class TokenFile(BaseModel):
    tokens: list[TokenEntry] = Field(default_factory=list)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load(path: Path) -> TokenFile:
    if not path.exists():
        return TokenFile()
    return TokenFile.model_validate_json(path.read_text())


def save(path: Path, tokens: TokenFile) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(tokens.model_dump_json(indent=2))
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def add(path: Path, actor: Actor, *, days: int | None = 365, now: datetime | None = None) -> tuple[str, TokenEntry]:
    """Create a token for ``actor``; return it (to show once) and its stored entry."""
    if actor.role is Role.SYSTEM:
        raise ValueError("role: no token is ever issued for the system role")
    now = now or datetime.now(UTC)
    token = "pacte_" + secrets.token_urlsafe(32)
    entry = TokenEntry(
        token_id=secrets.token_hex(4),
        sha256=_digest(token),
        actor=actor,
        created_at=now,
        expires_at=now + timedelta(days=days) if days else None,
    )
    tokens = load(path)
    tokens.tokens.append(entry)
    save(path, tokens)
    return token, entry


def authenticate(tokens: TokenFile, presented: str, now: datetime) -> Actor | None:
    """The actor of a valid, unexpired token; None otherwise (the caller never learns which part was wrong)."""
    digest = _digest(presented)
    found: TokenEntry | None = None
    for entry in tokens.tokens:
        if hmac.compare_digest(entry.sha256, digest):  # constant time
            found = entry
    if found is None or (found.expires_at is not None and found.expires_at <= now):
        return None
    return found.actor


DEMO = {
    "prefet": Actor(role=Role.PREFET, identity="prefecture-gironde", scope=("33",)),
    "collectivite": Actor(role=Role.COLLECTIVITE, identity="bordeaux-metropole", scope=("243300316",)),
    "commissaire": Actor(role=Role.COMMISSAIRE, identity="commissaire-nouvelle-aquitaine", scope=("75",)),
    "auditor": Actor(role=Role.AUDITOR, identity="cour-des-comptes", scope=("*",)),
}


def json_line(entry: TokenEntry) -> str:
    return json.dumps(entry.model_dump(mode="json", exclude={"sha256"}), ensure_ascii=False)
