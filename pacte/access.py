"""The access list: who may sign in, as which role over which scope. A grant matches a person (their identity
provider's ``sub``, or their e-mail) or an organisation (its SIRET, or its SIREN: every agent of a préfecture's
SIRET → préfet of its département). Grants expire and are revoked, effective at the next request; every change is
appended to a log (who granted or revoked what, when).

The list lives in PostgreSQL (``pacte.service.credentials``, which reads the rows and lets the rules here decide). The
file of earlier versions is still read and written here, as what ``pacte`` imports at start (``pacte dev``'s demo
persons, the tests): written like the tokens' (a lock, a private temporary file renamed over it); nothing in it is
secret.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.actors import NO_NUL, Actor, Role
from pacte.tokens import MAX_DAYS, check_scope, locked, save

Match = Literal["sub", "email", "siret", "siren"]
PRECEDENCE: tuple[Match, ...] = ("sub", "email", "siret", "siren")  # the most precise grant wins


class Grant(BaseModel):
    model_config = ConfigDict(frozen=True)

    grant_id: str
    match: Match
    value: str = Field(min_length=1, max_length=254, pattern=NO_NUL)
    role: Role
    identity: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    scope: tuple[str, ...]
    organisation: str = Field(default="", max_length=200, pattern=NO_NUL)
    granted_by: str
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def actor(self) -> Actor:
        return Actor(role=self.role, identity=self.identity, scope=self.scope)


class AccessList(BaseModel):
    grants: list[Grant] = Field(default_factory=list)


def normalised(match: Match, value: str) -> str:
    value = value.strip()
    if match == "email":
        return value.lower()
    if match in ("siret", "siren"):
        digits = value.replace(" ", "")
        if not digits.isdigit() or len(digits) != (14 if match == "siret" else 9):
            raise ValueError(f"{match}: {14 if match == 'siret' else 9} digits")
        return digits
    return value


def load(path: Path) -> AccessList:
    return AccessList.model_validate_json(path.read_text()) if path.exists() else AccessList()


def _log(path: Path, entry: dict[str, Any]) -> None:
    log = path.with_name(path.stem + "-log.jsonl")
    fd = os.open(log, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")


def new_grant(
    match: Match,
    value: str,
    actor: Actor,
    *,
    by: str,
    days: int = 365,
    organisation: str = "",
    now: datetime | None = None,
) -> Grant:
    """A grant of ``actor``'s role and scope to whoever matches, checked, not yet stored."""
    if actor.role is Role.SYSTEM:
        raise ValueError("role: nobody signs in as the system")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days: a grant lasts 1 to {MAX_DAYS} days, not {days}")
    check_scope(actor)
    now = now or datetime.now(UTC)
    return Grant(
        grant_id=secrets.token_hex(4),
        match=match,
        value=normalised(match, value),
        role=actor.role,
        identity=actor.identity,
        scope=actor.scope,
        organisation=organisation,
        granted_by=by,
        granted_at=now,
        expires_at=now + timedelta(days=days),
    )


def grant(
    path: Path,
    match: Match,
    value: str,
    actor: Actor,
    *,
    by: str,
    days: int = 365,
    organisation: str = "",
    now: datetime | None = None,
) -> Grant:
    """Grant ``actor``'s role and scope to whoever matches, in an access-list file (what ``pacte`` imports into
    PostgreSQL at start: tests and older deployments); logged beside it."""
    entry = new_grant(match, value, actor, by=by, days=days, organisation=organisation, now=now)
    with locked(path):
        access = load(path)
        access.grants.append(entry)
        save(path, access)
        _log(path, {"at": entry.granted_at, "by": by, "did": "grant", "grant": entry.model_dump(mode="json")})
    return entry


def revoke(path: Path, grant_id: str, *, by: str, now: datetime | None = None) -> Grant:
    """Revoke a grant: the next request of a session it opened is refused."""
    now = now or datetime.now(UTC)
    with locked(path):
        access = load(path)
        for i, entry in enumerate(access.grants):
            if entry.grant_id == grant_id:
                if entry.revoked_at is not None:
                    raise ValueError(f"grant_id: {grant_id} is already revoked")
                revoked = entry.model_copy(update={"revoked_at": now, "revoked_by": by})
                access.grants[i] = revoked
                save(path, access)
                _log(path, {"at": now, "by": by, "did": "revoke", "grant_id": grant_id})
                return revoked
    raise ValueError(f"grant_id: no grant {grant_id!r}")


def candidates(claims: dict[str, Any]) -> dict[Match, str]:
    """What a person's claims (ProConnect's: sub, email, siret, optional siren) may be matched by, normalised; the
    SIREN is the SIRET's first nine digits when not given."""
    found: dict[Match, str] = {}
    for match in PRECEDENCE:
        raw = claims.get(match)
        if isinstance(raw, str) and raw.strip():
            try:
                found[match] = normalised(match, raw)
            except ValueError:
                continue
    if "siren" not in found and "siret" in found:
        found["siren"] = found["siret"][:9]
    return found


def resolve(access: AccessList, claims: dict[str, Any], now: datetime) -> Grant | None:
    """The active grant for a person's claims: by sub, then e-mail, then SIRET, then SIREN. None: an unknown
    person, refused."""
    found = candidates(claims)
    for match in PRECEDENCE:
        if match not in found:
            continue
        matching = [e for e in access.grants if e.match == match and e.value == found[match] and e.granted_at <= now]
        if matching:
            # The most precise level that ever named the person decides, even when none of its grants is active any
            # more: removing a grant (revoked, expired) never lets a less precise one apply instead, which could
            # widen what the person may do (an auditor by sub, revoked, becoming préfet through her SIRET). A grant
            # given anew at this level opens again; a revoked grant by sub is how an organisation excludes a person.
            opened = [e for e in matching if e.active(now)]
            return max(opened, key=lambda e: e.granted_at) if opened else None
    return None


def active(access: AccessList, grant_id: str, now: datetime) -> bool:
    return any(g.grant_id == grant_id and g.active(now) for g in access.grants)
