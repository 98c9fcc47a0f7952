"""The HTTP API against real servers: tokens, roles and scope before the workflow, refusals as JSON problems that
write nothing, audits and exports, and generated bad input that never yields a 500."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.client import Client

from domain.actors import Actor, Role
from domain.business_time import PARIS
from eventstore.store import EventStore
from pacte.service.catalogue import COMMAND_ROUTES
from tests.integration.helpers import auth
from tests.unit.builders import BORDEAUX_ACTIONS

pytestmark = pytest.mark.integration

CID = "cls-d33"
ACTORS = {
    "prefet": Actor(role=Role.PREFET, identity="prefecture-gironde", scope=("33",)),
    "collectivite": Actor(role=Role.COLLECTIVITE, identity="departement-gironde", scope=("D33",)),
    "commissaire": Actor(role=Role.COMMISSAIRE, identity="commissaire-na", scope=("75",)),
    "auditor": Actor(role=Role.AUDITOR, identity="cour-des-comptes", scope=("*",)),
    "prefet_elsewhere": Actor(role=Role.PREFET, identity="prefecture-nord", scope=("59",)),
    "collectivite_elsewhere": Actor(role=Role.COLLECTIVITE, identity="departement-nord", scope=("D59",)),
    "commissaire_elsewhere": Actor(role=Role.COMMISSAIRE, identity="commissaire-hdf", scope=("32",)),
}
ACTION = BORDEAUX_ACTIONS[0].model_dump(mode="json")


async def ensure_contract(http: httpx.AsyncClient, issued: dict[str, str]) -> None:
    response = await http.post(
        "/contracts", json={"territory": "D33", "annual_ceiling": 150_000_000}, headers=auth(issued, "prefet")
    )
    assert response.status_code in (201, 409), response.text


async def test_credentials_are_checked_without_saying_what_was_wrong(api) -> None:  # type: ignore[no-untyped-def]
    http, issued = api
    for headers in (
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {issued['expired']}"},
        {"Authorization": "Bearer " + "x" * 5000},
        {"Authorization": "Bearer"},
    ):
        response = await http.get("/contracts", headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "code": "unauthorized",
            "message": "missing, invalid or expired credentials",
            "field": None,
        }


async def test_propose_refusals_and_idempotency(api, store: EventStore) -> None:  # type: ignore[no-untyped-def]
    http, issued = api
    await ensure_contract(http, issued)
    again = await http.post(
        "/contracts", json={"territory": "D33", "annual_ceiling": 150_000_000}, headers=auth(issued, "prefet")
    )
    assert again.status_code == 409 and again.json()["code"] == "already_exists"
    unknown = await http.post(
        "/contracts", json={"territory": "123456789", "annual_ceiling": 1}, headers=auth(issued, "prefet")
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "territory"
    negative = await http.post(
        "/contracts", json={"territory": "D40", "annual_ceiling": -1}, headers=auth(issued, "prefet")
    )
    assert negative.status_code == 422 and negative.json()["field"] == "annual_ceiling"
    by_collectivite = await http.post(
        "/contracts", json={"territory": "D33", "annual_ceiling": 1}, headers=auth(issued, "collectivite")
    )
    assert by_collectivite.status_code == 403
    for ceiling in (150_000_000.0, "150000000", True):  # an amount is an integer number of cents, nothing else
        loose = await http.post(
            "/contracts", json={"territory": "D40", "annual_ceiling": ceiling}, headers=auth(issued, "prefet")
        )
        assert loose.status_code == 422 and loose.json()["field"] == "annual_ceiling", (ceiling, loose.text)
    not_json = await http.post(
        "/contracts", content=b"\xff{", headers=auth(issued, "prefet") | {"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422 and not_json.json() == {
        "code": "invalid_value",
        "message": "body: not valid JSON",
        "field": "body",
    }
    for cid in ("cls-123456789", "cls-d40"):
        assert await store.stream_version(cid) == 0


async def test_nothing_is_read_before_the_token(api) -> None:  # type: ignore[no-untyped-def]
    """Without a valid token, a body that is not JSON, an unknown route or a huge body all get the same 401."""
    http, issued = api
    for method, path, content in (
        ("POST", "/contracts", b"\xff{"),
        ("GET", "/no-such-route", b""),
        ("POST", f"/contracts/{CID}/suspension", b"x" * 300_000),
    ):
        response = await http.request(method, path, content=content, headers={"Content-Type": "application/json"})
        assert response.status_code == 401 and response.json()["code"] == "unauthorized", (path, response.text)
    assert (await http.get("/health")).status_code == 200
    unknown = await http.get("/no-such-route", headers=auth(issued, "auditor"))
    assert unknown.status_code == 404 and set(unknown.json()) - {"errors"} == {"code", "message", "field"}


async def test_a_campaign_is_checked_before_it_starts(api, client: Client) -> None:  # type: ignore[no-untyped-def]
    http, issued = api
    cases = [
        ({"territories": ["D33", "nonsense"], "annual_ceiling": 1}, "prefet", 422, "territories.1"),
        ({"territories": ["D33", "D59"], "annual_ceiling": 1}, "prefet", 403, "actor.scope"),
        ({"territories": ["D33", "D33"], "annual_ceiling": 1}, "prefet", 422, "territories"),
        ({"territories": ["D33"], "annual_ceiling": 1, "ceilings": {"D40": 5}}, "prefet", 422, "ceilings.D40"),
        ({"territories": ["D33"], "annual_ceiling": 1.5}, "prefet", 422, "annual_ceiling"),
        ({"territories": ["D33"], "annual_ceiling": 1}, "collectivite", 403, "actor.role"),
    ]
    for body, who, status, field in cases:
        headers = auth(issued, who) | {"Idempotency-Key": "refused-campaign"}
        response = await http.post("/campaigns", json=body, headers=headers)
        assert (response.status_code, response.json()["field"]) == (status, field), (body, response.text)
    ids = [
        w.id
        async for w in client.list_workflows("WorkflowId STARTS_WITH 'campaign-'")
        if w.id.endswith("-refused-campaign")
    ]
    assert ids == []  # no campaign was started


async def test_a_campaign_key_starts_one_campaign_and_only_for_the_same_request(api) -> None:  # type: ignore[no-untyped-def]
    http, issued = api
    await ensure_contract(http, issued)  # the campaign's only territory has its contract already: it proposes nothing
    headers = auth(issued, "prefet") | {"Idempotency-Key": "gironde-2026"}
    body = {"territories": ["D33"], "annual_ceiling": 100}
    started = await http.post("/campaigns", json=body, headers=headers)
    assert started.status_code == 202
    campaign_id = started.json()["campaign_id"]
    assert campaign_id.startswith("campaign-") and campaign_id.endswith("-gironde-2026")  # namespaced per préfet
    assert (await http.post("/campaigns", json=body, headers=headers)).json()["campaign_id"] == campaign_id  # a retry
    other = await http.post("/campaigns", json={**body, "annual_ceiling": 200}, headers=headers)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused", other.text
    # Another préfet with the same key starts a campaign of its own, never meets this one.
    mine = await http.post(
        "/campaigns",
        json={"territories": ["D59"], "annual_ceiling": 100},
        headers=auth(issued, "prefet_elsewhere") | {"Idempotency-Key": "gironde-2026"},
    )
    assert mine.status_code == 202 and mine.json()["campaign_id"] != campaign_id
    for who, status in (
        ("prefet", 200),
        ("auditor", 200),
        ("prefet_elsewhere", 403),
        ("collectivite", 403),
        ("commissaire", 403),
    ):
        seen = await http.get(f"/campaigns/{campaign_id}", headers=auth(issued, who))
        assert seen.status_code == status, (who, seen.text)
    for not_a_campaign in (CID, "campaign-nothing-here"):
        response = await http.get(f"/campaigns/{not_a_campaign}", headers=auth(issued, "auditor"))
        assert response.status_code == 404 and response.json()["code"] == "not_found"


async def test_a_command_answers_what_changed_and_its_idempotency_key_makes_retries_harmless(
    api, store: EventStore
) -> None:  # type: ignore[no-untyped-def]
    http, issued = api
    await ensure_contract(http, issued)
    headers = auth(issued, "collectivite") | {"Idempotency-Key": "add-E1-once"}
    action = {**ACTION, "action_id": "E1", "title": "x'); DROP TABLE events; -- <script>"}
    first = await http.post(f"/contracts/{CID}/actions", json={"action": action}, headers=headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert [e["type"] for e in body["events"]] == ["ActionAdded"] and body["state"]["status"] == "NEGOTIATING"
    again = await http.post(f"/contracts/{CID}/actions", json={"action": action}, headers=headers)
    assert again.status_code == 200 and again.json()["version"] == body["version"]
    stored = [
        e
        for e in await store.read_stream(CID)
        if e.event_type == "ActionAdded" and e.payload["action"]["action_id"] == "E1"
    ]
    assert len(stored) == 1 and stored[0].payload["action"]["title"] == action["title"]  # stored as text
    assert stored[0].payload["request_id"].startswith("add-E1-once#")  # the key, and a digest of the command
    version = await store.stream_version(CID)
    other = {**action, "action_id": "E7"}
    reused = await http.post(f"/contracts/{CID}/actions", json={"action": other}, headers=headers)
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused", reused.text
    assert reused.json()["field"] == "request_id" and await store.stream_version(CID) == version


async def test_refusals_are_problems_and_write_nothing(api, store: EventStore) -> None:  # type: ignore[no-untyped-def]
    http, issued = api
    await ensure_contract(http, issued)
    before = await store.stream_version(CID)
    cases = [
        (
            "/contracts/cls-d33/actions",
            {"action": {**ACTION, "action_id": "E9", "axis": "EMPLOI"}},
            "collectivite",
            422,
            "axis_rule",
        ),
        (
            "/contracts/cls-d33/actions",
            {"action": {**ACTION, "action_id": "E9", "amounts": {"2024": {"etat": 1, "collectivite": 2}}}},
            "collectivite",
            422,
            "co_financing_50_50",
        ),
        ("/contracts/cls-d33/signatures", {"party": "etat", "signatory": "P"}, "prefet", 409, "lifecycle_violation"),
        ("/contracts/cls-d33/actions", {"action": {**ACTION, "action_id": "E9"}}, "auditor", 403, "forbidden"),
        (
            "/contracts/cls-d33/actions",
            {"action": {**ACTION, "action_id": "E9"}},
            "collectivite_elsewhere",
            403,
            "out_of_scope",
        ),
        (
            "/contracts/cls-d33/actions",
            {"action": {**ACTION, "action_id": "E9"}, "extra": 1},
            "collectivite",
            422,
            "invalid_value",
        ),
        ("/contracts/cls-d99/actions", {"action": {**ACTION, "action_id": "E9"}}, "prefet", 404, "not_found"),
    ]
    for path, payload, who, status, code in cases:
        response = await http.post(path, json=payload, headers=auth(issued, who))
        assert (response.status_code, response.json()["code"]) == (status, code), (path, who, response.text)
        assert set(response.json()) - {"errors"} == {"code", "message", "field"}  # errors: every refusal found
    huge = await http.post(
        f"/contracts/{CID}/suspension",
        content=b'{"reason": "' + b"x" * 300_000 + b'"}',
        headers=auth(issued, "commissaire") | {"Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    assert await store.stream_version(CID) == before


@pytest.mark.parametrize(("method", "path", "kind", "from_path"), COMMAND_ROUTES, ids=[r[2] for r in COMMAND_ROUTES])
async def test_every_role_and_scope_on_every_operation(
    api, store: EventStore, method: str, path: str, kind: str, from_path: tuple[str, ...]
) -> None:  # type: ignore[no-untyped-def]
    from domain.authorization import ALLOWED_ROLES

    http, issued = api
    await ensure_contract(http, issued)
    url = path.format(contract_id=CID, action_id="E1", avenant_id="renewal-2025")
    for name, actor in ACTORS.items():
        before = await store.stream_version(CID)
        response = await http.request(method, url, json={}, headers=auth(issued, name))
        allowed = actor.role in ALLOWED_ROLES[kind] and not name.endswith("elsewhere")
        if allowed:
            assert response.status_code not in (401, 403, 500), (name, response.text)
        else:
            assert response.status_code == 403, (name, kind, response.text)
            assert await store.stream_version(CID) == before


async def test_auditors_read_replay_verify_and_export(api, client: Client) -> None:  # type: ignore[no-untyped-def]
    http, issued = api
    await ensure_contract(http, issued)
    a = auth(issued, "auditor")
    timeline = (await http.get(f"/contracts/{CID}/timeline", headers=a)).json()
    assert timeline[0]["event_type"] == "ContractProposed" and timeline[0]["role"] == "prefet"
    today = datetime.now(PARIS).date()  # a business date: the day in Paris (after 23:00 UTC, already tomorrow)
    assert (await http.get(f"/contracts/{CID}/as-of/2023-01-01", headers=a)).json()["status"] == "NONE"
    assert (await http.get(f"/contracts/{CID}/as-of/{today}", headers=a)).json()["status"] in (
        "PROPOSED",
        "NEGOTIATING",
    )
    changes = (
        await http.get(f"/contracts/{CID}/changes", params={"start": "2023-01-01", "end": str(today)}, headers=a)
    ).json()
    assert "status" in {c["field"] for c in changes["changes"]}
    assert (await http.get("/audit/verify", headers=a)).json()["ok"] is True
    anchor = (await http.get("/audit/anchor", headers=a)).json()
    assert (await http.post("/audit/verify", json=anchor, headers=a)).json()["ok"] is True
    lines = (await http.get("/exports/events.jsonl", params={"contract_id": CID}, headers=a)).text.splitlines()
    assert json.loads(lines[0])["event_type"] == "ContractProposed"
    csv_text = (await http.get("/exports/events.csv", params={"contract_id": CID}, headers=a)).text
    assert csv_text.startswith("global_position,stream_id,version,event_type") and CID in csv_text
    cross = (await http.get("/audit/cross-check", headers=a)).json()
    assert cross["checked"] >= 1 and not [d for d in cross["differences"] if d["contract_id"] == CID]
    assert (await http.get("/audit/verify", headers=auth(issued, "prefet"))).status_code == 403
    assert (await http.get(f"/contracts/{CID}/timeline", headers=auth(issued, "prefet_elsewhere"))).status_code == 403


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.text(max_size=30)
    | st.sampled_from(["2024-01-01", "etat", "E1", "ENFANCE", "\x00"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(route=st.sampled_from(COMMAND_ROUTES), who=st.sampled_from(list(ACTORS)), body=json_values)
async def test_generated_bad_input_never_breaks_the_api_nor_writes(
    api, store: EventStore, route: tuple[str, str, str, tuple[str, ...]], who: str, body: Any
) -> None:  # type: ignore[no-untyped-def]
    http, issued = api
    method, path, _, _ = route
    url = path.format(contract_id=CID, action_id="E1", avenant_id="renewal-2025")
    before = await store.stream_version(CID)
    projected = await store.pool.fetchval("SELECT version FROM contract_summary WHERE contract_id = $1", CID)
    response = await http.request(method, url, json=body, headers=auth(issued, who))
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()) - {"errors"} == {"code", "message", "field"}  # errors: every refusal found
        assert await store.stream_version(CID) == before  # no event
        assert (
            await store.pool.fetchval("SELECT version FROM contract_summary WHERE contract_id = $1", CID) == projected
        )


READS = [
    ("/contracts/cls-d33", "contract"),
    ("/contracts/cls-d33/deadlines", "contract"),
    ("/contracts/cls-d33/money-trail", "contract"),
    ("/contracts/cls-d33/timeline", "contract"),
    ("/contracts/cls-d33/as-of/2026-01-01", "contract"),
    ("/contracts/cls-d33/changes?start=2023-01-01&end=2030-01-01", "contract"),
    ("/audit/verify", "auditor"),
    ("/audit/anchor", "auditor"),
    ("/audit/cross-check", "auditor"),
    ("/exports/events.jsonl?contract_id=cls-d33", "auditor"),
    ("/exports/events.csv", "auditor"),
    ("/territories", "anyone"),
    ("/contracts", "anyone"),
    ("/reminders", "anyone"),
]


@pytest.mark.parametrize(("path", "who_may"), READS, ids=[r[0] for r in READS])
async def test_every_role_and_scope_on_every_read(api, path: str, who_may: str) -> None:  # type: ignore[no-untyped-def]
    http, issued = api
    await ensure_contract(http, issued)
    for name, actor in ACTORS.items():
        response = await http.get(path, headers=auth(issued, name))
        if who_may == "anyone":
            allowed = True
        elif who_may == "auditor":
            allowed = actor.role is Role.AUDITOR
        else:  # a contract: the auditor, and whoever's scope covers the Gironde
            allowed = not name.endswith("elsewhere")
        assert (response.status_code == 200) is allowed, (name, path, response.status_code, response.text[:200])
        if not allowed:
            assert response.status_code == 403
    listed = (await http.get("/contracts", headers=auth(issued, "prefet_elsewhere"))).json()
    assert all(row["contract_id"] != CID for row in listed)  # lists are filtered by scope
