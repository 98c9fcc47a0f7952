"""Read models are derived from the events, updated in the appending transaction, and rebuilt identically."""

from __future__ import annotations

from typing import Any

import pytest

from domain.request_log import RequestIds
from domain.state import ContractState
from eventstore.projections import rebuild
from eventstore.store import EventStore
from tests.integration.helpers import append_by_request
from tests.unit.builders import bordeaux_in_execution
from tests.unit.test_lifecycle import review

pytestmark = pytest.mark.integration


async def dump(store: EventStore) -> list[list[Any]]:
    tables = []
    for query in (
        "SELECT * FROM contract_summary ORDER BY contract_id",
        "SELECT * FROM contract_axis_year ORDER BY contract_id, year, axis",
        "SELECT * FROM national_year ORDER BY year",
    ):
        tables.append([tuple(row.values()) for row in await store.pool.fetch(query)])
    return tables


async def test_summary_and_national_view_follow_the_events(fresh_store: EventStore) -> None:
    bordeaux = bordeaux_in_execution("reviewed")
    await append_by_request(fresh_store, "cls-243300316", bordeaux.events)
    row = await fresh_store.pool.fetchrow("SELECT * FROM contract_summary WHERE contract_id = 'cls-243300316'")
    assert row["status"] == "IN_EXECUTION" and row["current_year"] == 2024 and row["version"] == 11
    assert row["territory_name"] == "Bordeaux Métropole" and row["annual_ceiling"] == 150_000_000
    assert ContractState.model_validate(row["state"]) == bordeaux.state.model_copy(update={"request_ids": RequestIds()})
    axes = await fresh_store.pool.fetch(
        "SELECT axis, etat FROM contract_axis_year WHERE contract_id = 'cls-243300316' AND year = 2024 ORDER BY axis"
    )
    assert {r["axis"]: r["etat"] for r in axes} == {
        "EMPLOI": 30_000_000,
        "ENFANCE": 40_000_000,
        "GRANDE_EXCLUSION": 50_000_000,
        "TRANSITION_ECOLOGIQUE": 20_000_000,
    }
    national = await fresh_store.pool.fetchrow("SELECT * FROM national_year WHERE year = 2025")
    assert national["contracts"] == 1 and national["metropoles"] == 1 and national["etat"] == 140_000_000

    # A later append updates the same rows (the state comes from the projector's cache or its row).
    review(bordeaux, 2024)
    await append_by_request(fresh_store, "cls-243300316", bordeaux.events[11:])
    assert await fresh_store.pool.fetchval("SELECT version FROM contract_summary") == 12


async def test_a_rebuild_gives_exactly_the_same_rows(fresh_store: EventStore) -> None:
    bordeaux = bordeaux_in_execution("reviewed")
    await append_by_request(fresh_store, "cls-243300316", bordeaux.events)
    proposed_only = bordeaux_in_execution("proposed")
    await append_by_request(
        fresh_store,
        "cls-243100518",
        [e.model_copy(update={"contract_id": "cls-243100518"}) for e in proposed_only.events],
    )
    before = await dump(fresh_store)
    async with fresh_store.pool.acquire() as conn:
        await conn.execute("UPDATE contract_summary SET status = 'GARBAGE'")  # projections are not the record
        assert await rebuild(conn) == 2
    assert await dump(fresh_store) == before


async def test_a_refused_append_leaves_no_projection_row(fresh_store: EventStore) -> None:
    from eventstore.store import ConcurrencyError
    from tests.integration.helpers import stored_form

    bordeaux = bordeaux_in_execution("proposed")
    await fresh_store.append("cls-243300316", 0, stored_form("cls-243300316", 1, bordeaux.events[:1]))
    with pytest.raises(ConcurrencyError):
        await fresh_store.append("cls-243300316", 0, stored_form("cls-243300316", 1, bordeaux.events[1:2]))
    assert await fresh_store.pool.fetchval("SELECT version FROM contract_summary") == 1
    assert await fresh_store.pool.fetchval("SELECT count(*) FROM contract_axis_year") == 0


async def test_amounts_are_rewritten_only_by_an_append_that_moves_money(fresh_store: EventStore) -> None:
    from tests.unit.builders import BORDEAUX_COLL, PREFET_33
    from tests.unit.test_lifecycle import renew, same

    bordeaux = bordeaux_in_execution("reviewed")
    await append_by_request(fresh_store, "cls-243300316", bordeaux.events)
    # A mark on the rows held: an append that moves no money leaves them as they are (no rewrite)…
    await fresh_store.pool.execute("UPDATE contract_axis_year SET actions = 99")
    review(bordeaux, 2024)
    await append_by_request(fresh_store, "cls-243300316", bordeaux.events[11:])
    assert await fresh_store.pool.fetchval("SELECT version FROM contract_summary") == 12
    assert set(await fresh_store.pool.fetch("SELECT DISTINCT actions FROM contract_axis_year")) == {(99,)}
    # …and one that moves money (a renewal with less for A1 in 2025, concluded by the second signature) rewrites
    # every row of the contract, exactly as a rebuild would.
    renew(
        bordeaux,
        2025,
        PREFET_33,
        BORDEAUX_COLL,
        {"A1": same(350_000), "A2": same(300_000), "A3": same(500_000), "A4": same(200_000)},
    )
    await append_by_request(fresh_store, "cls-243300316", bordeaux.events[12:])
    after = await dump(fresh_store)
    assert 35_000_000 in {r[4] for r in after[1] if r[1] == 2025 and r[2] == "ENFANCE"}
    async with fresh_store.pool.acquire() as conn:
        assert await rebuild(conn) == 1
    assert await dump(fresh_store) == after
