"""Finding a contract among thousands (issue 26, item 4): the list filtered by territory name or id, status, région,
département, year and "en retard", sorted, and paged by keyset from the read model — every contract visited once,
ties on the sort key included, and exactly the contracts the actor may read."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.actors import Actor, Role
from domain.axes import TerritoryKind
from domain.business_time import PARIS
from domain.deadlines import Standing, deadline_standings
from domain.errors import DomainError
from domain.state import ContractState
from domain.status import Status
from domain.territories import REFERENCE_TERRITORIES, contract_id_for, synthetic_territory
from eventstore.projections import summary_json
from eventstore.store import EventStore
from pacte.service import search
from pacte.service.facade import policy_now, readable
from tests.conftest import create_fresh_database, drop_database
from tests.unit.test_deadline_standing import bordeaux

pytestmark = pytest.mark.integration

AUDITOR = Actor(role=Role.AUDITOR, identity="cour-des-comptes", scope=("*",))
PREFET_33 = Actor(role=Role.PREFET, identity="prefecture-gironde", scope=("33",))
PREFET_13_75 = Actor(role=Role.PREFET, identity="prefectures", scope=("13", "75"))
COMMISSAIRE_84 = Actor(role=Role.COMMISSAIRE, identity="commissaire-ara", scope=("84",))
BORDEAUX_AGENT = Actor(role=Role.COLLECTIVITE, identity="bordeaux-metropole", scope=("243300316",))
STATUSES = [Status.PROPOSED, Status.DELIBERATED, Status.IN_EXECUTION, Status.SUSPENDED]


def states() -> list[ContractState]:
    """Every reference territory and 200 synthetic ones, a few statuses, years and ceilings (ties on every sort key),
    a territory's second attempt (the same name twice), and Bordeaux late as its real history makes it."""
    late = bordeaux()
    made = [late]
    territories = [t for t in REFERENCE_TERRITORIES.values() if t.id != late.territory_id]
    territories += [t for n in range(1, 201) if (t := synthetic_territory(f"0{n:08d}")) is not None]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i, territory in enumerate(territories):
        made.append(
            ContractState(
                contract_id=contract_id_for(territory.id),
                status=STATUSES[i % len(STATUSES)],
                territory_id=territory.id,
                territory_name=territory.name,
                kind=territory.kind,
                region=territory.region,
                departements=territory.departements,
                annual_ceiling=[100_000_00, 250_000_00, 1_500_000_00][i % 3],
                current_year=None if i % 5 == 0 else 2024 + i % 4,
                version=1 + i % 7,
                last_at=start + timedelta(days=i % 11),
            )
        )
    second = made[3].model_copy(update={"contract_id": made[3].contract_id + "-2"})
    return [*made, second]


@pytest.fixture(scope="module")
async def store(postgres_server_url: str) -> AsyncIterator[EventStore]:
    url = await create_fresh_database(postgres_server_url)
    opened = await EventStore.connect(url)
    for state in states():
        await opened.pool.execute("SELECT pacte_project($1::text::jsonb, NULL)", summary_json(state))
    yield opened
    await opened.close()
    await drop_database(postgres_server_url, url)


async def every_page(store: EventStore, actor: Actor, **asked: object) -> list[search.ContractRow]:
    seen: list[search.ContractRow] = []
    after: str | None = None
    pages = 0
    while True:
        page = await search.find(store.pool, actor, search.ContractQuery(**asked, after=after))  # type: ignore[arg-type]
        seen.extend(page.contracts)
        pages += 1
        assert pages < 1000
        if page.next is None:
            return seen
        assert len(page.contracts) == page.limit
        after = page.next


def key(row: search.ContractRow, sort: str) -> object:
    return {
        "territoire": row.territory_name,
        "statut": row.status,
        "region": row.region,
        "annee": row.current_year or 0,
        "plafond": row.annual_ceiling,
        "activite": row.last_event_at,
    }[sort]


@pytest.mark.parametrize("sort", list(search.SORTS))
@pytest.mark.parametrize("descending", [False, True])
async def test_paging_visits_every_contract_once_in_order_with_ties(
    store: EventStore, sort: str, descending: bool
) -> None:
    total = await store.pool.fetchval("SELECT count(*) FROM contract_summary")
    rows = await every_page(store, AUDITOR, sort=sort, descending=descending, limit=7)
    ids = [r.contract_id for r in rows]
    assert len(ids) == len(set(ids)) == total
    keys = [(key(r, sort), r.contract_id) for r in rows]
    assert keys == sorted(keys, reverse=descending)
    assert len({key(r, sort) for r in rows}) < total or sort == "territoire"  # ties were there to cross


@pytest.mark.parametrize("actor", [AUDITOR, PREFET_33, PREFET_13_75, COMMISSAIRE_84, BORDEAUX_AGENT])
async def test_a_list_holds_exactly_what_the_actor_may_read(store: EventStore, actor: Actor) -> None:
    every = await store.pool.fetch("SELECT contract_id FROM contract_summary")
    allowed = {r["contract_id"] for r in readable(actor, every)}
    assert allowed
    assert {r.contract_id for r in await every_page(store, actor, limit=50)} == allowed


async def test_the_filters(store: EventStore) -> None:
    all_states = {s.contract_id: s for s in states()}

    async def found(**asked: object) -> set[str]:
        return {r.contract_id for r in await every_page(store, AUDITOR, limit=40, **asked)}

    assert await found(text="bordeaux") == {"cls-243300316"}
    assert await found(text="BORDEAUX MÉTROPOLE") == {"cls-243300316"}
    assert await found(text="243300316") == {"cls-243300316"}
    assert await found(text="metropole de lyon") == {
        c for c, s in all_states.items() if "Métropole de Lyon" in s.territory_name
    }
    assert await found(text="100%_") == set()  # LIKE's wildcards are text here
    assert await found(status="SUSPENDED") == {c for c, s in all_states.items() if s.status is Status.SUSPENDED}
    assert await found(region="84") == {c for c, s in all_states.items() if s.region == "84"}
    assert await found(departement="13") == {c for c, s in all_states.items() if "13" in s.departements}
    assert await found(year=2025) == {c for c, s in all_states.items() if s.current_year == 2025}
    assert await found(kind="departement") == {c for c, s in all_states.items() if s.kind is TerritoryKind.DEPARTEMENT}
    combined = await found(region="84", status="PROPOSED", year=2024)
    assert combined == {
        c for c, s in all_states.items() if s.region == "84" and s.status is Status.PROPOSED and s.current_year == 2024
    }


async def test_en_retard_is_the_domains_missed_deadlines_today(store: EventStore) -> None:
    today = datetime.now(PARIS).date()  # the business day the service judges by
    late = {
        s.contract_id
        for s in states()
        if any(d.standing is Standing.MISSED for d in deadline_standings(s, policy_now(), today))
    }
    assert "cls-243300316" in late and len(late) < len(states())
    page = await every_page(store, AUDITOR, late=True, limit=25)
    assert {r.contract_id for r in page} == late
    by_id = {s.contract_id: s for s in states()}
    for row in await every_page(store, AUDITOR, limit=100):  # the count shown beside each, as the contract page's
        standings = deadline_standings(by_id[row.contract_id], policy_now(), today)
        assert row.missed == sum(1 for d in standings if d.standing is Standing.MISSED), row.contract_id


async def test_what_is_stored_says_exactly_when_a_contract_is_late_and_by_how_many_deadlines() -> None:
    for state in states()[:40]:
        after = search.late_after(state, policy_now())
        always, dues = search.owed(state, policy_now())
        for today in (date(2023, 6, 1), date(2024, 4, 1), date(2025, 4, 1), date(2026, 12, 1), date(2030, 1, 1)):
            standings = deadline_standings(state, policy_now(), today)
            missed = sum(1 for d in standings if d.standing is Standing.MISSED)
            assert (missed > 0) == (after is not None and after < today), (state.contract_id, today, after)
            assert missed == always + sum(1 for d in dues if d < today), (state.contract_id, today)


async def test_a_moved_contract_is_found_where_it_now_is(store: EventStore) -> None:
    [before] = [r for r in await every_page(store, AUDITOR, text="brest")]
    moved = next(s for s in states() if s.contract_id == before.contract_id).model_copy(
        update={"status": Status.TERMINATED, "version": 99}
    )
    await store.pool.execute("SELECT pacte_project($1::text::jsonb, NULL)", summary_json(moved))
    assert [r.status for r in await every_page(store, AUDITOR, text="brest")] == ["TERMINATED"]
    assert before.contract_id in {r.contract_id for r in await every_page(store, AUDITOR, status="TERMINATED")}


async def test_a_cursor_is_for_its_own_order(store: EventStore) -> None:
    page = await search.find(store.pool, AUDITOR, search.ContractQuery(sort="plafond", limit=5))
    assert page.next is not None
    with pytest.raises(DomainError) as refused:
        await search.find(store.pool, AUDITOR, search.ContractQuery(sort="territoire", after=page.next))
    assert refused.value.rule == "search.cursor"
    with pytest.raises(DomainError):
        await search.find(store.pool, AUDITOR, search.ContractQuery(after="not-a-cursor"))
    for sort, value, contract_id in [
        ("plafond", "not a number", "cls-x"),
        ("plafond", 2**70, "cls-x"),  # beyond bigint
        ("plafond", 1, "cls-\x00"),  # PostgreSQL takes no NUL
        ("territoire", "Bordeaux\x00", "cls-x"),
        ("activite", "2026-01-01T00:00:00", "cls-x"),  # no time zone
    ]:
        forged = search.encode_cursor([sort, False, value, contract_id])
        with pytest.raises(DomainError) as refused:
            await search.find(store.pool, AUDITOR, search.ContractQuery(sort=sort, after=forged))  # type: ignore[arg-type]
        assert refused.value.rule == "search.cursor"
    assert json.loads(json.dumps(page.model_dump(mode="json")))["next"] == page.next
