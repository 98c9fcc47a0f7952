"""Bearer tokens: hashed (never the tokens themselves), each mapped to an actor; the rules that make and judge one.

They live in PostgreSQL (``pacte.service.credentials``); the JSON file of earlier versions is still read and written
here, as what ``pacte`` imports at start (``pacte dev``'s demo tokens, the tests).

A token is shown once, when it is added; the file holds its SHA-256 only, so a leaked file grants nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from domain.actors import Actor, Role
from domain.departements_data import DEPARTEMENTS
from domain.territories import REFERENCE_TERRITORIES

MAX_DAYS = 730  # a token lives two years at most; none lives forever
DEPARTEMENT_CODES = frozenset(code for code, _, _ in DEPARTEMENTS)
REGION_CODES = frozenset(region for _, region, _ in DEPARTEMENTS)


class TokenEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    token_id: str
    sha256: str
    actor: Actor
    created_at: datetime
    expires_at: datetime | None = None
    # The access list's grant a person's token was made under (from their session): revoked or expired, the token
    # is refused at its next use.
    grant_id: str | None = None
    revoked_at: datetime | None = None  # revoked tokens are kept (refused), so an import never brings one back
    revoked_by: str | None = None


class TokenFile(BaseModel):
    tokens: list[TokenEntry] = Field(default_factory=list)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load(path: Path) -> TokenFile:
    if not path.exists():
        return TokenFile()
    return TokenFile.model_validate_json(path.read_text())


def save(path: Path, tokens: BaseModel) -> None:
    """Atomic, and private from the first byte: a temporary file of our own (created 0600), renamed over the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(tokens.model_dump_json(indent=2))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """One writer at a time: two concurrent adds both land (the second reads what the first wrote)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def check_scope(actor: Actor) -> None:
    """A scope names real things of the reference data, as the role reads them."""
    allowed = {
        Role.PREFET: DEPARTEMENT_CODES | {"*"},
        Role.COLLECTIVITE: frozenset(REFERENCE_TERRITORIES),
        Role.COMMISSAIRE: REGION_CODES | {"*"},
        Role.AUDITOR: frozenset({"*"}),
        Role.ADMIN: DEPARTEMENT_CODES | {"*"},
    }[actor.role]
    if not actor.scope:
        raise ValueError(f"scope: a {actor.role.value} acts over a scope; give one")
    unknown = [s for s in actor.scope if s not in allowed]
    if unknown:
        what = {
            Role.PREFET: "département codes (33, 2A) or *",
            Role.COLLECTIVITE: "territory ids (a SIREN, or D + INSEE code); never *",
            Role.COMMISSAIRE: "région codes (75) or *",
            Role.AUDITOR: "* (auditors read everything)",
            Role.ADMIN: "département codes (33, 2A) or * (national administration)",
        }[actor.role]
        raise ValueError(f"scope: {', '.join(unknown)} — a {actor.role.value}'s scope is {what}")


MAX_PER_PERSON = 10  # tokens of one person alive at once


class GrantList(Protocol):
    """The access list as tokens read it (pacte.access imports this module, not the other way)."""

    @property
    def grants(self) -> Sequence[Any]: ...


def new_entry(
    actor: Actor, *, days: int = 365, now: datetime | None = None, grant_id: str | None = None
) -> tuple[str, TokenEntry]:
    """A new token for ``actor`` (a person's: under ``grant_id``), checked, not yet stored: the token (to show once)
    and its entry (which keeps its hash only)."""
    if actor.role is Role.SYSTEM:
        raise ValueError("role: no token is ever issued for the system role")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days: a token lives 1 to {MAX_DAYS} days, not {days}")
    check_scope(actor)
    now = now or datetime.now(UTC)
    token = "pacte_" + secrets.token_urlsafe(32)
    entry = TokenEntry(
        token_id=secrets.token_hex(4),
        sha256=_digest(token),
        actor=actor,
        created_at=now,
        expires_at=now + timedelta(days=days),
        grant_id=grant_id,
    )
    return token, entry


def check_bound(held: Sequence[TokenEntry], now: datetime) -> None:
    """A person holds at most ``MAX_PER_PERSON`` tokens alive (neither expired nor revoked) at once."""
    alive = [e for e in held if e.revoked_at is None and (e.expires_at is None or e.expires_at > now)]
    if len(alive) >= MAX_PER_PERSON:
        raise ValueError(f"tokens: a person holds at most {MAX_PER_PERSON} tokens alive at once; revoke one first")


def add(
    path: Path, actor: Actor, *, days: int = 365, now: datetime | None = None, grant_id: str | None = None
) -> tuple[str, TokenEntry]:
    """Create a token in a tokens file (what ``pacte`` imports into PostgreSQL at start: tests and older
    deployments); return it (to show once) and its entry."""
    now = now or datetime.now(UTC)
    token, entry = new_entry(actor, days=days, now=now, grant_id=grant_id)
    with locked(path):
        tokens = load(path)
        if actor.person is not None:
            check_bound(of_person(tokens, actor.person.sub), now)
        tokens.tokens.append(entry)
        save(path, tokens)
    return token, entry


def valid(tokens: TokenFile, presented: str, now: datetime) -> bool:
    return authenticate(tokens, presented, now) is not None


def authenticate(
    tokens: TokenFile, presented: str, now: datetime, access_list: GrantList | None = None
) -> Actor | None:
    """The actor of a valid, unexpired token; None otherwise (the caller never learns which part was wrong).

    A person's token acts only while the grant it was made under is active (``access_list``): a revoked or expired
    grant ends it. A person's token made before tokens carried their grant must match the grant the person's sub or
    e-mail resolves to now (same role, identity and scope), or it is refused."""
    digest = _digest(presented)
    found: TokenEntry | None = None
    for entry in tokens.tokens:
        if hmac.compare_digest(entry.sha256, digest):  # constant time
            found = entry
    if found is None or found.revoked_at is not None or (found.expires_at is not None and found.expires_at <= now):
        return None
    person = found.actor.person
    if found.grant_id is None and person is None:
        return found.actor  # a service's token (pacte tokens add): lives its own lifetime
    if access_list is None:
        return None  # a person's power comes from the access list: without it, nothing
    if found.grant_id is not None:
        alive = any(g.grant_id == found.grant_id and g.active(now) for g in access_list.grants)
        return found.actor if alive else None
    from pacte.access import resolve  # pacte.access imports this module

    assert person is not None
    now_grant = resolve(access_list, {"sub": person.sub, "email": person.email or ""}, now)  # type: ignore[arg-type]
    same = now_grant is not None and now_grant.actor() == found.actor.model_copy(update={"person": None})
    return found.actor if same else None


DEMO = {
    "prefet": Actor(role=Role.PREFET, identity="prefecture-gironde", scope=("33",)),
    "collectivite": Actor(role=Role.COLLECTIVITE, identity="bordeaux-metropole", scope=("243300316",)),
    "commissaire": Actor(role=Role.COMMISSAIRE, identity="commissaire-nouvelle-aquitaine", scope=("75",)),
    "auditor": Actor(role=Role.AUDITOR, identity="cour-des-comptes", scope=("*",)),
}


def json_line(entry: TokenEntry) -> str:
    return json.dumps(entry.model_dump(mode="json", exclude={"sha256"}), ensure_ascii=False)


def of_person(tokens: TokenFile, sub: str) -> list[TokenEntry]:
    return [e for e in tokens.tokens if e.actor.person is not None and e.actor.person.sub == sub]
