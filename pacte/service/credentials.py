"""The access list and the API tokens, kept in PostgreSQL (schema pacte_auth, migration 010) so that every API
process agrees at every request: a grant revoked or expired ends the sessions and the tokens made under it at their
next use, an administrator's revocation of a token counts at once everywhere, and nothing is parsed from a file per
request. The decisions themselves stay in ``pacte.access`` and ``pacte.tokens`` (pure functions over the rows read
here, judged at the database's clock); this module reads and writes the rows, and logs every change.

The files of earlier versions (``PACTE_ACCESS_FILE``, ``PACTE_TOKENS_FILE``) are imported at start, idempotently:
what is already in the database is kept as it is there (a token revoked here stays revoked)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

from domain.actors import Actor, Role
from domain.errors import DomainError, Forbidden
from domain.territories import REFERENCE_TERRITORIES
from pacte import access, tokens

log = structlog.stdlib.get_logger("pacte.credentials")

Db = asyncpg.Pool | asyncpg.Connection | PoolConnectionProxy
Conn = asyncpg.Connection | PoolConnectionProxy


# -- the access list -----------------------------------------------------------------------------------------------


def _grant(row: Any) -> access.Grant:  # an asyncpg Record
    return access.Grant.model_validate({k: row[k] for k in access.Grant.model_fields if k in row})


async def _log(conn: Db, by: str, did: str, detail: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO pacte_auth.access_log (by, did, detail) VALUES ($1, $2, $3::text::jsonb)",
        by,
        did,
        json.dumps(detail, ensure_ascii=False, default=str),
    )


async def _insert_grant(conn: Conn, entry: access.Grant) -> bool:
    inserted = await conn.fetchval(
        """INSERT INTO pacte_auth.grants (grant_id, match, value, role, identity, scope, organisation, granted_by,
                                          granted_at, expires_at, revoked_at, revoked_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT (grant_id) DO NOTHING RETURNING 1""",
        entry.grant_id,
        entry.match,
        entry.value,
        entry.role.value,
        entry.identity,
        list(entry.scope),
        entry.organisation,
        entry.granted_by,
        entry.granted_at,
        entry.expires_at,
        entry.revoked_at,
        entry.revoked_by,
    )
    return inserted is not None


async def now(db: Db) -> datetime:
    """The database's clock: every process judges expiry by the same one."""
    found: datetime = await db.fetchval("SELECT now()")
    return found


async def grant(
    pool: asyncpg.Pool,
    match: access.Match,
    value: str,
    actor: Actor,
    *,
    by: str,
    days: int = 365,
    organisation: str = "",
) -> access.Grant:
    """Grant ``actor``'s role and scope to whoever matches (checked as ``access.grant`` checks); logged."""
    async with pool.acquire() as conn, conn.transaction():
        entry = access.new_grant(match, value, actor, by=by, days=days, organisation=organisation, now=await now(conn))
        await _insert_grant(conn, entry)
        await _log(conn, by, "grant", {"grant": entry.model_dump(mode="json")})
    return entry


async def revoke_grant(pool: asyncpg.Pool, grant_id: str, *, by: str) -> access.Grant:
    """Revoke a grant: the sessions and the tokens made under it are refused from their next request."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT * FROM pacte_auth.grants WHERE grant_id = $1 FOR UPDATE", grant_id)
        if row is None:
            raise ValueError(f"grant_id: no grant {grant_id!r}")
        if row["revoked_at"] is not None:
            raise ValueError(f"grant_id: {grant_id} is already revoked")
        row = await conn.fetchrow(
            """UPDATE pacte_auth.grants SET revoked_at = now(), revoked_by = $2 WHERE grant_id = $1 RETURNING *""",
            grant_id,
            by,
        )
        await _log(conn, by, "revoke", {"grant_id": grant_id})
    return _grant(row)


async def grants(db: Db) -> list[access.Grant]:
    return [_grant(r) for r in await db.fetch("SELECT * FROM pacte_auth.grants ORDER BY granted_at, grant_id")]


async def resolve(db: Db, claims: Mapping[str, Any]) -> access.Grant | None:
    """The active grant for a person's claims (``access.resolve``'s rules), from the grants that could match."""
    found = access.candidates(dict(claims))
    rows = await db.fetch(
        "SELECT *, now() AS db_now FROM pacte_auth.grants WHERE value = ANY($1::text[])", sorted(set(found.values()))
    )
    if not rows:
        return None
    return access.resolve(access.AccessList(grants=[_grant(r) for r in rows]), dict(claims), rows[0]["db_now"])


async def grant_active(db: Db, grant_id: str) -> bool:
    found = await db.fetchval(
        "SELECT 1 FROM pacte_auth.grants WHERE grant_id = $1 AND revoked_at IS NULL AND expires_at > now()",
        grant_id,
    )
    return found is not None


# -- the API tokens ------------------------------------------------------------------------------------------------


def _entry(row: Any) -> tokens.TokenEntry:  # an asyncpg Record
    return tokens.TokenEntry(
        token_id=row["token_id"],
        sha256=row["sha256"],
        actor=Actor.model_validate_json(row["actor"])
        if isinstance(row["actor"], str)
        else Actor.model_validate(row["actor"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        grant_id=row["grant_id"],
        revoked_at=row["revoked_at"],
        revoked_by=row["revoked_by"],
    )


async def _insert_token(conn: Db, entry: tokens.TokenEntry) -> bool:
    person = entry.actor.person
    inserted = await conn.fetchval(
        """INSERT INTO pacte_auth.tokens (token_id, sha256, actor, sub, grant_id, created_at, expires_at,
                                          revoked_at, revoked_by)
           VALUES ($1, $2, $3::text::jsonb, $4, $5, $6, $7, $8, $9)
           ON CONFLICT DO NOTHING RETURNING 1""",
        entry.token_id,
        entry.sha256,
        entry.actor.model_dump_json(),
        person.sub if person is not None else None,
        entry.grant_id,
        entry.created_at,
        entry.expires_at or entry.created_at + timedelta(days=tokens.MAX_DAYS),
        entry.revoked_at,
        entry.revoked_by,
    )
    return inserted is not None


async def add_token(
    pool: asyncpg.Pool, actor: Actor, *, days: int = 365, grant_id: str | None = None, by: str
) -> tuple[str, tokens.TokenEntry]:
    """A new token (checked as ``tokens.new_entry`` checks): a person's is counted against their bound, and one made
    under a grant is refused unless that grant is active now. Returns the token, to show once, and its entry."""
    async with pool.acquire() as conn, conn.transaction():
        at = await now(conn)
        token, entry = tokens.new_entry(actor, days=days, now=at, grant_id=grant_id)
        if grant_id is not None and not await grant_active(conn, grant_id):
            raise ValueError(f"grant_id: {grant_id} is revoked or expired; sign in again")
        person = actor.person
        if person is not None:
            # One count at a time per person: two tokens made at once cannot both slip under the bound.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 25))", person.sub)
            held = [_entry(r) for r in await conn.fetch("SELECT * FROM pacte_auth.tokens WHERE sub = $1", person.sub)]
            tokens.check_bound(held, at)
        await _insert_token(conn, entry)
        await _log(conn, by, "add token", {"token": json.loads(tokens.json_line(entry))})
    return token, entry


async def authenticate(db: Db, presented: str) -> Actor | None:
    """The actor of a token presented to the API, or None (``tokens.authenticate`` decides, at the database's clock,
    with the grant the token was made under — or, for a person's token made without one, the grants that could
    match the person now)."""
    digest = hashlib.sha256(presented.encode()).hexdigest()
    row = await db.fetchrow("SELECT *, now() AS db_now FROM pacte_auth.tokens WHERE sha256 = $1", digest)
    if row is None or row["revoked_at"] is not None:
        return None
    entry = _entry(row)
    at: datetime = row["db_now"]
    person = entry.actor.person
    relevant: list[access.Grant] = []
    if entry.grant_id is not None:
        relevant = [
            _grant(r) for r in await db.fetch("SELECT * FROM pacte_auth.grants WHERE grant_id = $1", entry.grant_id)
        ]
    elif person is not None:
        values = list(access.candidates({"sub": person.sub, "email": person.email or ""}).values())
        relevant = [
            _grant(r) for r in await db.fetch("SELECT * FROM pacte_auth.grants WHERE value = ANY($1::text[])", values)
        ]
    return tokens.authenticate(tokens.TokenFile(tokens=[entry]), presented, at, access.AccessList(grants=relevant))


def administers(admin: Actor, holder: Actor) -> bool:
    """Whether an administrator's scope covers a token's holder: a national administrator (``*``) covers every
    token; one for some départements covers the préfets, budget services and administrators acting only there
    and the collectivités whose territory lies only there (never a national, regional or auditor's token)."""
    if admin.role is not Role.ADMIN:
        return False
    if "*" in admin.scope:
        return True
    if holder.role in (Role.PREFET, Role.ADMIN):
        return bool(holder.scope) and "*" not in holder.scope and set(holder.scope) <= set(admin.scope)
    if holder.role is Role.COLLECTIVITE:
        territories = [REFERENCE_TERRITORIES.get(t) for t in holder.scope]
        return bool(territories) and all(t is not None and set(t.departements) <= set(admin.scope) for t in territories)
    return False


async def list_tokens(db: Db, actor: Actor) -> list[tokens.TokenEntry]:
    """The tokens ``actor`` may see: an administrator's, those within their scope; anyone else's, their own."""
    rows = await db.fetch("SELECT * FROM pacte_auth.tokens ORDER BY created_at, token_id")
    entries = [_entry(r) for r in rows]
    if actor.role is Role.ADMIN:
        return [e for e in entries if administers(actor, e.actor)]
    if actor.person is None:
        return []
    return [e for e in entries if e.actor.person is not None and e.actor.person.sub == actor.person.sub]


def _who(actor: Actor) -> str:
    return f"{actor.role.value}:{actor.identity}" + (f" ({actor.person.sub})" if actor.person else "")


async def revoke_token(pool: asyncpg.Pool, token_id: str, *, by: Actor | str) -> tokens.TokenEntry:
    """Revoke a token: it is refused from its next use, by every process. ``by`` an actor: an administrator within
    their scope, or the token's own holder; anyone else is refused and nothing changes. ``by`` a name: local
    administration (``pacte tokens revoke``, with the database's owner)."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT * FROM pacte_auth.tokens WHERE token_id = $1 FOR UPDATE", token_id)
        entry = _entry(row) if row is not None else None
        if isinstance(by, Actor):
            own = (
                entry is not None
                and by.person is not None
                and entry.actor.person is not None
                and entry.actor.person.sub == by.person.sub
            )
            if entry is None or not (own or administers(by, entry.actor)):
                # The same answer for a token that does not exist and one that is not yours: no probing.
                raise Forbidden(
                    f"token_id: {token_id!r} is not a token you hold or administer",
                    field="token_id",
                    rule="token.not_yours",
                    params={"token_id": token_id},
                )
        elif entry is None:
            raise DomainError(
                f"token_id: no token {token_id!r}",
                field="token_id",
                code="not_found",
                rule="token.unknown",
                params={"token_id": token_id},
            )
        assert entry is not None
        if entry.revoked_at is not None:
            raise DomainError(
                f"token_id: {token_id} is already revoked",
                field="token_id",
                code="invalid_value",
                rule="token.already_revoked",
                params={"token_id": token_id},
            )
        who = _who(by) if isinstance(by, Actor) else by
        row = await conn.fetchrow(
            "UPDATE pacte_auth.tokens SET revoked_at = now(), revoked_by = $2 WHERE token_id = $1 RETURNING *",
            token_id,
            who,
        )
        await _log(conn, who, "revoke token", {"token_id": token_id})
    return _entry(row)


# -- the files of earlier versions ----------------------------------------------------------------------------------


async def import_files(
    target: asyncpg.Pool | asyncpg.Connection, access_path: Path, tokens_path: Path
) -> tuple[int, int]:
    """The one way the files of earlier versions come in (the API's start, ``pacte dev``, local administration),
    on a pool or on the owner's connection; what it added is logged."""
    if isinstance(target, asyncpg.Pool):
        async with target.acquire() as conn:
            added = await import_files_on(conn, access_path, tokens_path)
    else:
        added = await import_files_on(target, access_path, tokens_path)
    if any(added):
        log.info("credentials imported from files", grants=added[0], tokens=added[1])
    return added


async def import_files_on(conn: asyncpg.Connection, access_path: Path, tokens_path: Path) -> tuple[int, int]:
    """Bring the access list's and the tokens' files into the database: entries not there yet are added (and logged
    as imported), entries already there are left as the database has them. Returns (grants, tokens) added. Local
    administration's work: with a runtime role, the owner's connection does it (migration 012: the runtime role
    gives no grant, and makes only a person's token under a live grant)."""
    listed = (await asyncio.to_thread(access.load, access_path)).grants  # an absent file: nothing to import
    held = (await asyncio.to_thread(tokens.load, tokens_path)).tokens
    added_grants = added_tokens = 0
    if not listed and not held:
        return 0, 0
    async with conn.transaction():
        for g in listed:
            if await _insert_grant(conn, g):
                added_grants += 1
                await _log(conn, "import", "grant", {"grant": g.model_dump(mode="json"), "from": str(access_path)})
        for t in held:
            if await _insert_token(conn, t):
                added_tokens += 1
                await _log(conn, "import", "add token", {"token_id": t.token_id, "from": str(tokens_path)})
    return added_grants, added_tokens


def visible_fields(entries: Sequence[tokens.TokenEntry]) -> list[dict[str, Any]]:
    """Entries as the API answers them: never the hash."""
    return [e.model_dump(mode="json", exclude={"sha256"}) for e in entries]
