"""The runtime role (what the API and the worker need) reads, appends through pacte_append and writes the outbox;
it cannot update, delete or truncate an event, nor disable or drop the append-only trigger, nor the chain's heads."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import asyncpg
import pytest

from eventstore.hashing import content_text
from eventstore.records import NewEvent
from eventstore.store import EventStore
from pacte.embedded import with_database
from pacte.runtime import runtime_url_for

pytestmark = pytest.mark.integration


async def test_the_runtime_role_appends_and_reads_but_cannot_rewrite_history(
    fresh_store: EventStore, any_server_url: str
) -> None:
    database = await fresh_store.pool.fetchval("SELECT current_database()")
    runtime = await EventStore.connect(runtime_url_for(with_database(any_server_url, database)), apply_migrations=False)
    try:
        event = NewEvent(event_id=uuid.uuid4(), event_type="Noted", payload={"n": 1}, occurred_at=datetime.now(UTC))
        assert (await runtime.append("probe-runtime", 0, [event])).version == 1  # through pacte_append
        assert [e.version for e in await runtime.read_stream("probe-runtime")] == [1]
        assert await runtime.add_reminder("cls-d33", "renewal", 2025, date(2024, 12, 31), date(2024, 11, 1))
        async with runtime.pool.acquire() as conn:
            assert await conn.fetchval("SELECT current_user") == "pacte_runtime"
            for statement in (
                "UPDATE events SET payload = '{}'::jsonb",
                "DELETE FROM events",
                "TRUNCATE events",
                "ALTER TABLE events DISABLE TRIGGER events_append_only",
                "DROP TRIGGER events_append_only ON events",
                "UPDATE streams SET version = 0",
                "INSERT INTO events (stream_id) VALUES ('x')",
                "DELETE FROM schema_migrations",
                # A read-model row of its own choosing (a ghost contract on the préfet's list).
                """SELECT pacte_project('{"contract_id": "cls-ghost"}'::jsonb, NULL)""",
            ):
                with pytest.raises(
                    (asyncpg.InsufficientPrivilegeError, asyncpg.exceptions.UndefinedColumnError)
                ) as info:
                    await conn.execute(statement)
                assert isinstance(info.value, asyncpg.InsufficientPrivilegeError), statement
    finally:
        await runtime.close()


async def test_the_embedded_stack_runs_as_the_runtime_role_and_migrates_as_the_owner(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pacte import runtime
    from pacte.runtime import open_store
    from pacte.settings import Settings

    settings = Settings(data_dir=tmp_path / "data")
    try:
        async with open_store(settings) as store:  # what `pacte dev`, `pacte api` and `pacte worker` open
            assert await store.pool.fetchval("SELECT current_user") == "pacte_runtime"
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await store.pool.execute("DELETE FROM events")
        async with open_store(settings, as_owner=True) as store:  # `pacte migrate`, local administration
            assert await store.pool.fetchval("SELECT current_user") != "pacte_runtime"
    finally:
        # Stopped here, while its data is reachable: left to the interpreter's exit, the stop ran after the worker's
        # temporary root had become unreachable to the server's user ("pg_ctl: could not access directory …
        # Permission denied", then "Failed to stop server, killing it instead": runs i4, i5, i6).
        for server in [s for s in runtime._embedded_servers if str(tmp_path) in str(s.pgdata)]:  # type: ignore[attr-defined]
            server.cleanup()  # type: ignore[attr-defined]


# The functions of ours that run as their owner, and the search_path each must carry: pg_catalog first and nothing
# anyone else may write (function resolution prefers an exact argument type over the path's order, so a
# public.cardinality(uuid[]) would beat pg_catalog.cardinality(anyarray) wherever public is on the path).
DEFINERS = {"pacte_append", "pacte_project"}
PINNED = ["search_path=pg_catalog, pg_temp"]


async def test_every_function_that_runs_as_the_owner_is_pinned(fresh_store: EventStore) -> None:
    rows = await fresh_store.pool.fetch(
        """SELECT p.proname, p.prosecdef, p.proconfig, p.proacl::text[] AS acl
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'public' AND NOT EXISTS (
               SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"""
    )
    found = {r["proname"]: r for r in rows}
    assert set(found) >= DEFINERS
    for name, row in found.items():
        if name in DEFINERS:
            assert row["prosecdef"], f"{name} lost SECURITY DEFINER"
        if row["prosecdef"]:
            assert name in DEFINERS, f"{name} runs as its owner but is not known to run so"
            assert row["proconfig"] == PINNED, f"{name} has search_path {row['proconfig']}, not {PINNED}"
            # Never executable by PUBLIC (an ACL entry "=X/owner").
            assert row["acl"] is not None and not any(a.startswith("=") for a in row["acl"]), (name, row["acl"])


async def _runtime(fresh_store: EventStore, any_server_url: str) -> EventStore:
    database = await fresh_store.pool.fetchval("SELECT current_database()")
    return await EventStore.connect(runtime_url_for(with_database(any_server_url, database)), apply_migrations=False)


async def test_a_function_planted_in_public_never_runs_as_the_owner(
    fresh_store: EventStore, any_server_url: str
) -> None:
    # A cluster where the runtime role may create in public (PostgreSQL 14's default, or a careless grant).
    await fresh_store.pool.execute("GRANT CREATE ON SCHEMA public TO pacte_runtime")
    runtime = await _runtime(fresh_store, any_server_url)
    try:
        async with runtime.pool.acquire() as conn:
            for signature, returns in (
                ("cardinality(uuid[])", "integer"),
                ("array_append(bytea[], bytea)", "bytea[]"),
                ("jsonb_populate_record(contract_summary, jsonb)", "contract_summary"),
            ):
                await conn.execute(
                    f"""CREATE FUNCTION public.{signature} RETURNS {returns} LANGUAGE plpgsql AS $$
                        BEGIN RAISE EXCEPTION 'planted function ran as %', current_user; END; $$"""
                )
        event = NewEvent(event_id=uuid.uuid4(), event_type="Noted", payload={"n": 1}, occurred_at=datetime.now(UTC))
        assert (await runtime.append("probe-planted", 0, [event])).version == 1
    finally:
        await runtime.close()


async def test_the_runtime_role_cannot_create_in_our_schema(any_server_url: str) -> None:
    from tests.conftest import create_fresh_database, drop_database

    url = await create_fresh_database(any_server_url)
    try:
        conn = await asyncpg.connect(url)
        try:  # PostgreSQL 14's default, and that of clusters upgraded from it
            await conn.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
        finally:
            await conn.close()
        owner = await EventStore.connect(url)
        await owner.close()
        runtime = await asyncpg.connect(runtime_url_for(url))
        try:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await runtime.execute("CREATE TABLE public.planted (x int)")
        finally:
            await runtime.close()
    finally:
        await drop_database(any_server_url, url)


GHOST = {
    "contract_id": "cls-ghost",
    "territory_id": "D33",
    "territory_name": "Gironde",
    "kind": "departement",
    "region": "75",
    "status": "SIGNED",
    "current_year": 2025,
    "annual_ceiling": 10**11,
    "version": 1,
    "last_event_at": "2025-01-01T00:00:00+00:00",
    "state": {},
}
APPEND = "SELECT * FROM pacte_append($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb)"


def canonical_texts(stream: str, after: int, events: list[NewEvent]) -> list[str]:
    """What the store sends pacte_append: each event's canonical text (eventstore/hashing.py)."""
    return [
        content_text(
            stream_id=stream,
            version=after + i,
            event_id=e.event_id,
            event_type=e.event_type,
            schema_version=e.schema_version,
            payload=e.payload,
            metadata=e.metadata,
            occurred_at=e.occurred_at,
        )
        for i, e in enumerate(events, start=1)
    ]


def noted(n: int = 1) -> list[NewEvent]:
    return [
        NewEvent(event_id=uuid.uuid4(), event_type="Noted", payload={"n": i}, occurred_at=datetime.now(UTC))
        for i in range(n)
    ]


async def test_the_runtime_role_cannot_write_a_read_model_row_without_its_events(
    fresh_store: EventStore, any_server_url: str
) -> None:
    """Issue 25, item 6: pacte_append with no event and a crafted summary made a ghost contract on the préfet's list
    and in the national figures; a summary for another stream, at another version, or beside one junk event did the
    same. The database now refuses a summary the appended events do not justify."""
    ghost_state = {"contract_id": "cls-ghost", "version": 1, "status": "SIGNED", "territory_name": "Gironde"}
    ghost_state |= {"current_year": 2025, "annual_ceiling": 10**11}
    runtime = await _runtime(fresh_store, any_server_url)
    try:
        for stream, events, summary in (
            ("cls-ghost", [], GHOST),  # no event at all
            ("cls-real", noted(), GHOST),  # another contract's row
            ("cls-ghost", noted(), {**GHOST, "version": 7}),  # a version the events do not reach
            ("cls-ghost", noted(), {**GHOST, "state": ghost_state}),  # one junk event: not a contract's proposal
        ):
            async with runtime.pool.acquire() as conn:
                with pytest.raises(asyncpg.CheckViolationError, match="read model"):
                    await conn.fetchrow(
                        APPEND, stream, "cls", 0, canonical_texts(stream, 0, events), json.dumps(summary), None
                    )
        count = await fresh_store.pool.fetchval("SELECT count(*) FROM contract_summary")
        assert count == 0 and await fresh_store.pool.fetchval("SELECT count(*) FROM events") == 0
    finally:
        await runtime.close()


async def test_a_read_model_row_moves_only_as_the_events_appended_allow(
    fresh_store: EventStore, any_server_url: str
) -> None:
    """Beside real events, a row that does not follow from them is refused: a proposal shown signed, under another
    territory's name, a status, a ceiling or amounts moved by an event that cannot move them. The row the projector
    computes from the same events is accepted (so the refusals are about the row, not the call)."""
    from eventstore.projections import ContractProjector, fold_payloads
    from tests.integration.helpers import stored_form
    from tests.unit.builders import bordeaux_in_execution

    history = bordeaux_in_execution("in_execution").events
    stream = "cls-243300316"
    proposal = [e for e in history if e.request_id == history[0].request_id]
    runtime = await _runtime(fresh_store, any_server_url)

    def crafted(events: list[NewEvent], before: dict, **changes: object) -> str:  # type: ignore[type-arg]
        from domain.state import ContractState

        state = fold_payloads(ContractState.model_validate(before), (e.payload for e in events))
        summary = json.loads(ContractProjector.rows(state)[0])
        for key, value in changes.items():
            summary[key] = value
            if key in summary["state"]:
                summary["state"][key] = value
        return json.dumps(summary)

    try:
        first = stored_form(stream, 1, proposal)
        texts = canonical_texts(stream, 0, first)
        from domain.state import INITIAL_STATE

        initial = INITIAL_STATE.model_dump(mode="json")
        async with runtime.pool.acquire() as conn:
            for changes in ({"status": "SIGNED"}, {"territory_name": "Ghostland"}, {"annual_ceiling": 10**12}):
                with pytest.raises(asyncpg.CheckViolationError, match="read model"):
                    await conn.fetchrow(APPEND, stream, "cls", 0, texts, crafted(first, initial, **changes), None)
            row = await conn.fetchrow(APPEND, stream, "cls", 0, texts, crafted(first, initial), None)
            assert row["outcome"] == "appended"
            assert await conn.fetchval("SELECT status FROM contract_summary WHERE contract_id = $1", stream) == (
                "PROPOSED"
            )
            # The next fact moves no money and signs nothing: the row keeps its status, ceiling and amounts.
            before = fold_payloads(INITIAL_STATE, (e.payload for e in first)).model_dump(mode="json")
            following = [e for e in history[len(proposal) :] if e.type == "DeliberationRecorded"][:1]
            assert following, "the history has a deliberation"
            nxt = stored_form(stream, len(first) + 1, following)
            texts = canonical_texts(stream, len(first), nxt)
            for changes in ({"status": "IN_EXECUTION"}, {"annual_ceiling": 10**12}, {"current_year": 2031}):
                with pytest.raises(asyncpg.CheckViolationError, match="read model"):
                    await conn.fetchrow(APPEND, stream, "cls", len(first), texts, crafted(nxt, before, **changes), None)
            axis = json.dumps([{"contract_id": stream, "year": 2031, "axis": "a1", "actions": 1, "etat": 10**12,
                               "collectivite": 0, "partenaires": 0}])  # fmt: skip
            with pytest.raises(asyncpg.CheckViolationError, match="read model"):
                await conn.fetchrow(APPEND, stream, "cls", len(first), texts, crafted(nxt, before), axis)
            row = await conn.fetchrow(APPEND, stream, "cls", len(first), texts, crafted(nxt, before), None)
            assert row["outcome"] == "appended"
        assert (await fresh_store.pool.fetchval("SELECT status FROM contract_summary")) == "DELIBERATED"
        assert await fresh_store.pool.fetchval("SELECT count(*) FROM contract_axis_year WHERE year = 2031") == 0
    finally:
        await runtime.close()
