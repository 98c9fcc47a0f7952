"""Credentials die with the right that gave them (issue 25, item 1), tried as an attacker would: a person keeps the
token they made while they had access, and uses it after their grant is revoked, after it expired, after an
administrator revoked the token; a préfet tries to list and revoke another person's tokens; and two API processes
(two apps, two pools, one database) must agree at once. Tokens and grants live in PostgreSQL (pacte_auth)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from temporalio.client import Client
from typer.testing import CliRunner

from domain.actors import Actor, Person, Role
from eventstore.store import EventStore
from pacte import access, tokens
from pacte.api import create_app
from pacte.cli import app as cli
from pacte.embedded import with_database
from pacte.runtime import runtime_url_for
from pacte.service import credentials
from pacte.service.facade import Pacte
from pacte.settings import Settings, get_settings

pytestmark = pytest.mark.integration

PREFET_05 = Actor(role=Role.PREFET, identity="prefecture-hautes-alpes", scope=("05",))
ADMIN_05 = Actor(role=Role.ADMIN, identity="administration-hautes-alpes", scope=("05",))
ADMIN_69 = Actor(role=Role.ADMIN, identity="administration-rhone", scope=("69",))
TERRITORY, CONTRACT = "D05", "cls-d05"


def person(sub: str, name: str) -> Person:
    return Person(sub=sub, name=name, email=f"{sub}@hautes-alpes.gouv.fr")


async def granted_token(pool: asyncpg.Pool, sub: str, actor: Actor = PREFET_05) -> tuple[access.Grant, str, str]:
    """A person granted ``actor``'s role, and a token they made from their session (under that grant)."""
    grant = await credentials.grant(pool, "sub", sub, actor, by="test", days=30)
    holder = grant.actor().model_copy(update={"person": person(sub, sub.title())})
    token, entry = await credentials.add_token(pool, holder, days=90, grant_id=grant.grant_id, by=sub)
    return grant, token, entry.token_id


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
async def two_apis(
    client: Client, store: EventStore, database_url: str, task_queue: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, EventStore]]:
    """Two API processes as far as state goes: two apps, each with its own pool, over the same database."""
    other = await EventStore.connect(database_url, apply_migrations=False)
    data = tmp_path_factory.mktemp("credentials")
    first = Settings(task_queue=task_queue, data_dir=data / "a")
    second = Settings(task_queue=task_queue, data_dir=data / "b")
    app_a = create_app(first, service=Pacte(client=client, store=store, settings=first))
    app_b = create_app(second, service=Pacte(client=client, store=other, settings=second))
    try:
        async with (
            app_a.router.lifespan_context(app_a),
            app_b.router.lifespan_context(app_b),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app_a), base_url="http://a") as a,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app_b), base_url="http://b") as b,
        ):
            yield a, b, store
    finally:
        await other.close()


async def test_a_token_dies_with_its_revoked_grant_on_every_process_and_records_nothing(two_apis) -> None:  # type: ignore[no-untyped-def]
    a, b, store = two_apis
    grant, token, _ = await granted_token(store.pool, "sub-revoked-grant")
    for api in (a, b):
        assert (await api.get("/territories", headers=bearer(token))).status_code == 200
    await credentials.revoke_grant(store.pool, grant.grant_id, by="admin")
    before = await store.stream_version(CONTRACT)
    log_before = await store.pool.fetchval("SELECT count(*) FROM pacte_auth.access_log")
    for api in (a, b):
        proposed = await api.post(
            "/contracts", json={"territory": TERRITORY, "annual_ceiling": 100_000_000}, headers=bearer(token)
        )
        assert proposed.status_code == 401, proposed.text
        assert (await api.get("/tokens", headers=bearer(token))).status_code == 401
    assert await store.stream_version(CONTRACT) == before  # nothing recorded in their name
    assert await store.pool.fetchval("SELECT count(*) FROM pacte_auth.access_log") == log_before
    # And no new token can be made under the dead grant.
    holder = grant.actor().model_copy(update={"person": person("sub-revoked-grant", "X")})
    with pytest.raises(ValueError, match=r"grant_id: .* revoked or expired"):
        await credentials.add_token(store.pool, holder, grant_id=grant.grant_id, by="x")


async def test_a_token_dies_when_its_grant_expires_even_if_the_token_has_days_left(two_apis, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Made 40 days ago for 90 days, under a grant of 30 days: brought in by the import of an earlier version's files,
    as an existing deployment's would be."""
    a, b, store = two_apis
    then = datetime.now(UTC) - timedelta(days=40)
    access_file, tokens_file = tmp_path / "access.json", tmp_path / "tokens.json"
    grant = access.grant(access_file, "sub", "sub-expired-grant", PREFET_05, by="test", days=30, now=then)
    holder = grant.actor().model_copy(update={"person": person("sub-expired-grant", "Expired")})
    token, _ = tokens.add(tokens_file, holder, days=90, now=then, grant_id=grant.grant_id)
    alive_grant = access.grant(access_file, "sub", "sub-alive-grant", PREFET_05, by="test", days=30)
    alive_holder = alive_grant.actor().model_copy(update={"person": person("sub-alive-grant", "Alive")})
    alive, _ = tokens.add(tokens_file, alive_holder, days=90, grant_id=alive_grant.grant_id)
    assert await credentials.import_files(store.pool, access_file, tokens_file) == (2, 2)
    for api in (a, b):
        assert (await api.get("/territories", headers=bearer(token))).status_code == 401
        assert (await api.get("/territories", headers=bearer(alive))).status_code == 200


async def test_an_expired_token_is_refused(two_apis) -> None:  # type: ignore[no-untyped-def]
    a, _, store = two_apis
    token, entry = tokens.new_entry(PREFET_05, days=1, now=datetime.now(UTC) - timedelta(days=2))
    await credentials._insert_token(store.pool, entry)
    assert (await a.get("/territories", headers=bearer(token))).status_code == 401


async def test_an_administrator_lists_and_revokes_a_token_and_every_process_refuses_it_at_once(two_apis) -> None:  # type: ignore[no-untyped-def]
    a, b, store = two_apis
    _, token, token_id = await granted_token(store.pool, "sub-admin-target")
    _, admin, _ = await granted_token(store.pool, "sub-admin-05", ADMIN_05)
    listed = await a.get("/tokens", headers=bearer(admin))
    assert listed.status_code == 200
    assert token_id in {t["token_id"] for t in listed.json()}
    assert all("sha256" not in t for t in listed.json())  # never the hash
    revoked = await a.post(f"/tokens/{token_id}/revoke", headers=bearer(admin))
    assert revoked.status_code == 200 and revoked.json()["revoked_by"].startswith("admin:administration-hautes-alpes")
    for api in (a, b):
        assert (await api.get("/territories", headers=bearer(token))).status_code == 401
    again = await b.post(f"/tokens/{token_id}/revoke", headers=bearer(admin))
    assert again.status_code == 422 and again.json()["field"] == "token_id"
    # The log of changes says who revoked it, and cannot be rewritten.
    did = await store.pool.fetchval(
        "SELECT did FROM pacte_auth.access_log WHERE detail->>'token_id' = $1 ORDER BY position DESC LIMIT 1",
        token_id,
    )
    assert did == "revoke token"


async def test_outside_their_scope_an_administrator_can_neither_see_nor_revoke(two_apis) -> None:  # type: ignore[no-untyped-def]
    a, b, store = two_apis
    _, token, token_id = await granted_token(store.pool, "sub-scope-target")
    _, rhone, _ = await granted_token(store.pool, "sub-admin-69", ADMIN_69)
    assert token_id not in {t["token_id"] for t in (await a.get("/tokens", headers=bearer(rhone))).json()}
    refused = await a.post(f"/tokens/{token_id}/revoke", headers=bearer(rhone))
    assert refused.status_code == 403 and refused.json()["field"] == "token_id"
    assert (await b.get("/territories", headers=bearer(token))).status_code == 200  # still works


async def test_a_non_administrator_cannot_list_or_revoke_anothers_tokens(two_apis) -> None:  # type: ignore[no-untyped-def]
    a, b, store = two_apis
    _, victim, victim_id = await granted_token(store.pool, "sub-victim")
    _, attacker, attacker_id = await granted_token(store.pool, "sub-attacker")  # same role, same scope
    seen = {t["token_id"] for t in (await a.get("/tokens", headers=bearer(attacker))).json()}
    assert seen == {attacker_id}  # their own, nobody else's
    for target in (victim_id, "deadbeef"):  # another's, and one that does not exist: the same refusal
        refused = await b.post(f"/tokens/{target}/revoke", headers=bearer(attacker))
        assert refused.status_code == 403, refused.text
    assert (await a.get("/territories", headers=bearer(victim))).status_code == 200
    # A service's token (no person behind it) sees no token at all.
    service, entry = tokens.new_entry(PREFET_05)
    await credentials._insert_token(store.pool, entry)
    assert (await a.get("/tokens", headers=bearer(service))).json() == []
    # Their own, they revoke; it stops at once on the other process.
    assert (await a.post(f"/tokens/{attacker_id}/revoke", headers=bearer(attacker))).status_code == 200
    assert (await b.get("/territories", headers=bearer(attacker))).status_code == 401


async def test_a_person_holds_a_bounded_number_of_tokens_even_when_asking_all_at_once(two_apis) -> None:  # type: ignore[no-untyped-def]
    _, _, store = two_apis
    grant = await credentials.grant(store.pool, "sub", "sub-greedy", PREFET_05, by="test", days=30)
    holder = grant.actor().model_copy(update={"person": person("sub-greedy", "Greedy")})

    async def one() -> str | None:
        try:
            return (await credentials.add_token(store.pool, holder, grant_id=grant.grant_id, by="x"))[0]
        except ValueError as refused:
            assert str(refused).startswith(f"tokens: a person holds at most {tokens.MAX_PER_PERSON} tokens")
            return None

    made = await asyncio.gather(*(one() for _ in range(tokens.MAX_PER_PERSON + 4)))
    assert sum(t is not None for t in made) == tokens.MAX_PER_PERSON
    count = "SELECT count(*) FROM pacte_auth.tokens WHERE sub = 'sub-greedy'"
    assert await store.pool.fetchval(count) == tokens.MAX_PER_PERSON  # the refused wrote nothing
    # One revoked frees a place.
    first = await store.pool.fetchval("SELECT token_id FROM pacte_auth.tokens WHERE sub = 'sub-greedy' LIMIT 1")
    await credentials.revoke_token(store.pool, first, by="test")
    assert await one() is not None


async def test_an_import_never_brings_back_what_was_revoked(two_apis, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, _, store = two_apis
    access_file, tokens_file = tmp_path / "access.json", tmp_path / "tokens.json"
    token, entry = tokens.add(tokens_file, PREFET_05)
    grant = access.grant(access_file, "sub", "sub-imported", PREFET_05, by="test")
    assert await credentials.import_files(store.pool, access_file, tokens_file) == (1, 1)
    assert (await a.get("/territories", headers=bearer(token))).status_code == 200
    await credentials.revoke_token(store.pool, entry.token_id, by="test")
    await credentials.revoke_grant(store.pool, grant.grant_id, by="test")
    assert await credentials.import_files(store.pool, access_file, tokens_file) == (0, 0)  # at the next start
    assert (await a.get("/territories", headers=bearer(token))).status_code == 401
    assert not await credentials.grant_active(store.pool, grant.grant_id)


async def test_the_runtime_role_revokes_but_cannot_undo_widen_or_erase(
    fresh_store: EventStore, any_server_url: str
) -> None:
    database = await fresh_store.pool.fetchval("SELECT current_database()")
    runtime = await EventStore.connect(runtime_url_for(with_database(any_server_url, database)), apply_migrations=False)
    try:
        pool = runtime.pool
        # Grants are given by local administration (the owner); the runtime role makes a person's token under one.
        grant = await credentials.grant(fresh_store.pool, "sub", "sub-runtime", PREFET_05, by="test", days=30)
        holder = grant.actor().model_copy(update={"person": person("sub-runtime", "Sub Runtime")})
        token, entry = await credentials.add_token(pool, holder, days=90, grant_id=grant.grant_id, by="sub-runtime")
        token_id = entry.token_id
        await credentials.revoke_token(pool, token_id, by="test")
        await credentials.revoke_grant(pool, grant.grant_id, by="test")
        for statement in (
            "UPDATE pacte_auth.tokens SET revoked_at = NULL",  # un-revoke
            "UPDATE pacte_auth.grants SET revoked_at = NULL",
            "UPDATE pacte_auth.grants SET scope = '{*}'",  # widen
            "UPDATE pacte_auth.tokens SET expires_at = expires_at + interval '1 year'",
            "DELETE FROM pacte_auth.grants",  # a revoked grant by sub erased: a SIRET grant would apply instead
            "DELETE FROM pacte_auth.tokens",
            "UPDATE pacte_auth.access_log SET by = 'someone else'",
            "DELETE FROM pacte_auth.access_log",
            "TRUNCATE pacte_auth.access_log",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await pool.execute(statement)
        assert (await credentials.authenticate(pool, token)) is None
        # A live grant: the only change allowed is its revocation, once.
        live = await credentials.grant(fresh_store.pool, "sub", "sub-runtime-2", PREFET_05, by="test")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await pool.execute(
                "UPDATE pacte_auth.grants SET expires_at = expires_at + interval '1 year' WHERE grant_id = $1",
                live.grant_id,
            )
    finally:
        await runtime.close()


def test_pacte_tokens_add_list_and_revoke_from_the_cli(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Local administration (`pacte tokens`, with the database's owner): a token made is printed once and works;
    `list` shows holders, never the hash; `revoke` ends it for every process."""
    monkeypatch.setenv("PACTE_DATABASE_URL", database_url)
    monkeypatch.setenv("PACTE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        made = CliRunner().invoke(
            cli, ["tokens", "add", "--role", "auditor", "--identity", "ccomptes-cli", "--scope", "*"]
        )
        assert made.exit_code == 0, made.output
        token = made.stdout.strip().splitlines()[-1]
        assert (
            CliRunner()
            .invoke(cli, ["tokens", "add", "--role", "collectivite", "--identity", "x", "--scope", "*"])
            .exit_code
            == 1
        )
        assert CliRunner().invoke(cli, ["tokens", "add", "--role", "nobody", "--identity", "x"]).exit_code == 2
        listed = [json.loads(line) for line in CliRunner().invoke(cli, ["tokens", "list"]).stdout.splitlines()]
        mine = [t for t in listed if t["actor"]["identity"] == "ccomptes-cli"]
        assert len(mine) == 1 and "sha256" not in mine[0] and token not in json.dumps(listed)
        revoked = CliRunner().invoke(cli, ["tokens", "revoke", mine[0]["token_id"]])
        assert revoked.exit_code == 0, revoked.output
        assert CliRunner().invoke(cli, ["tokens", "revoke", mine[0]["token_id"]]).exit_code == 1  # already
        assert CliRunner().invoke(cli, ["tokens", "revoke", "no-such"]).exit_code == 1
    finally:
        get_settings.cache_clear()

    async def check() -> None:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
        try:
            assert await credentials.authenticate(pool, token) is None
        finally:
            await pool.close()

    asyncio.run(check())


def test_the_access_commands(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pacte access grant/list/revoke`: local administration, in PostgreSQL like everything the API reads."""
    app = cli
    monkeypatch.setenv("PACTE_DATABASE_URL", database_url)
    monkeypatch.setenv("PACTE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    runner = CliRunner()
    granted = runner.invoke(
        app,
        [
            "access",
            "grant",
            "--role",
            "prefet",
            "--identity",
            "prefecture-hautes-alpes-cli",
            "--scope",
            "05",
            "--siret",
            "17050001300016",
            "--days",
            "10",
        ],
    )
    assert granted.exit_code == 0, granted.output
    grant_id = granted.output.split()[1].rstrip(":")
    row = next(line for line in runner.invoke(app, ["access", "list"]).output.splitlines() if grant_id in line)
    assert "active" in row
    assert runner.invoke(app, ["access", "revoke", grant_id]).exit_code == 0
    row = next(line for line in runner.invoke(app, ["access", "list"]).output.splitlines() if grant_id in line)
    assert "revoked" in row
    assert runner.invoke(app, ["access", "revoke", grant_id]).exit_code == 1  # already revoked
    both = runner.invoke(
        app,
        ["access", "grant", "--role", "prefet", "--identity", "p", "--scope", "33", "--sub", "a", "--email", "b@c.fr"],
    )
    assert both.exit_code == 2  # one way to match, not two
    get_settings.cache_clear()


async def test_the_runtime_role_makes_no_credential_beyond_a_live_grant_and_writes_no_past(
    fresh_store: EventStore, any_server_url: str
) -> None:
    """Found by an attack on the runtime role (psql as pacte_runtime): it inserted an auditor token of scope * valid
    until 9999 with no grant, a grant of its own bringing a revoked person back wider, an access-log entry dated 2020,
    and reopened a session ended by sign-out. Each is refused now, by the database itself."""
    database = await fresh_store.pool.fetchval("SELECT current_database()")
    runtime = await EventStore.connect(runtime_url_for(with_database(any_server_url, database)), apply_migrations=False)
    try:
        pool = runtime.pool
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await credentials.grant(pool, "sub", "mallory", PREFET_05.model_copy(update={"scope": ("*",)}), by="x")
        grant = await credentials.grant(fresh_store.pool, "sub", "sub-live", PREFET_05, by="test", days=30)
        holder = grant.actor().model_copy(update={"person": person("sub-live", "Sub Live")})
        auditor = Actor(role=Role.AUDITOR, identity="forged-auditor", scope=("*",))
        wider = holder.model_copy(update={"scope": ("05", "33")})
        other = holder.model_copy(update={"identity": "prefecture-gironde"})
        forged = [
            (auditor, None, 90),  # no grant at all
            (holder, "no-such-grant", 90),
            (wider, grant.grant_id, 90),  # wider than the grant
            (other, grant.grant_id, 90),  # someone else's identity
            (holder, grant.grant_id, 3650),  # longer than any token
        ]

        async def insert(actor: Actor, grant_id: str | None, days: int) -> None:  # as psql would, past the service
            await pool.execute(
                """INSERT INTO pacte_auth.tokens (token_id, sha256, actor, sub, grant_id, created_at, expires_at)
                   VALUES (md5(random()::text), md5(random()::text), $1::text::jsonb, 'sub-live', $2, now(),
                           now() + make_interval(days => $3))""",
                actor.model_dump_json(),
                grant_id,
                days,
            )

        for actor, grant_id, days in forged:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await insert(actor, grant_id, days)
        await insert(holder, grant.grant_id, 90)  # what the service does: a person's token, within their grant
        await credentials.revoke_grant(fresh_store.pool, grant.grant_id, by="test")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):  # under a revoked grant
            await insert(holder, grant.grant_id, 90)
        assert await pool.fetchval("SELECT count(*) FROM pacte_auth.tokens") == 1
        # The log is written at the database's clock, whatever the writer says.
        at = await pool.fetchval(
            """INSERT INTO pacte_auth.access_log (at, by, did, detail)
               VALUES ('2020-01-01', 'admin:someone', 'revoke token', '{}') RETURNING at"""
        )
        assert at > datetime.now(UTC) - timedelta(hours=1)
        # A session ended stays ended, and none is lengthened.
        await pool.execute(
            """INSERT INTO pacte_auth.sessions (session_hash, sub, grant_id, expires_at, ended_at, ended_why)
               VALUES ('\\x01', 'sub-live', NULL, now() + interval '1 hour', now(), 'signed out'),
                      ('\\x02', 'sub-live', NULL, now() + interval '1 hour', NULL, NULL)"""
        )
        for statement in (
            "UPDATE pacte_auth.sessions SET ended_at = NULL, ended_why = NULL WHERE session_hash = '\\x01'",
            "UPDATE pacte_auth.sessions SET expires_at = expires_at + interval '1 year' WHERE session_hash = '\\x02'",
            "UPDATE pacte_auth.sessions SET sub = 'mallory' WHERE session_hash = '\\x02'",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await pool.execute(statement)
        await pool.execute(  # what the service does: end it, or (the tests) make it expire sooner
            "UPDATE pacte_auth.sessions SET ended_at = now(), ended_why = 'signed out' WHERE session_hash = '\\x02'"
        )
    finally:
        await runtime.close()
