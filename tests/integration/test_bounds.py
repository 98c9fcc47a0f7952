"""Every accepted value is storable: the bounds declared once in domain/limits.py are in the published OpenAPI
schema, each end is checked through the API against the real servers, and what is accepted at the bound is stored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.actors import Actor, Role
from domain.limits import MAX_CENTS, MAX_COUNT, STORABLE_TEXT
from eventstore.store import EventStore
from pacte.api import create_app
from pacte.settings import Settings
from tests.integration.helpers import auth

pytestmark = pytest.mark.integration

CID = "cls-242900314"  # Brest Métropole (Finistère, Bretagne): its own contract
ACTORS = {
    "prefet": Actor(role=Role.PREFET, identity="prefecture-finistere", scope=("29",)),
    "commissaire": Actor(role=Role.COMMISSAIRE, identity="commissaire-bretagne", scope=("53",)),
}


def bounds(schema: Any, path: str = "") -> list[tuple[str, str, Any]]:
    """Every (path, keyword, value) of maximum / maxLength / maxItems / maxProperties / pattern in a JSON schema."""
    found = []
    if isinstance(schema, dict):
        for keyword in ("maximum", "maxLength", "maxItems", "maxProperties", "pattern"):
            if keyword in schema:
                found.append((path, keyword, schema[keyword]))
        for key, value in schema.items():
            found += bounds(value, f"{path}/{key}")
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            found += bounds(value, f"{path}/{i}")
    return found


def test_the_bounds_are_published_in_the_schema() -> None:
    spec = create_app(Settings()).openapi()
    found = bounds(spec)
    maximums = {v for _, k, v in found if k == "maximum"}
    assert {MAX_CENTS, MAX_COUNT} <= maximums
    texts = [p for p, k, v in found if k == "pattern" and v == STORABLE_TEXT]
    assert (
        any("reason" in p for p in texts) and any("findings" in p for p in texts) and any("title" in p for p in texts)
    )
    assert any(k == "maxItems" for _, k, _ in found) and any(k == "maxProperties" for _, k, _ in found)


async def test_each_end_of_a_bound_through_the_api(api, store: EventStore) -> None:  # type: ignore[no-untyped-def]
    http, issued = api
    over = await http.post(
        "/contracts", json={"territory": "242900314", "annual_ceiling": MAX_CENTS + 1}, headers=auth(issued, "prefet")
    )
    assert over.status_code == 422 and over.json()["field"] == "annual_ceiling"
    at_max = await http.post(
        "/contracts", json={"territory": "242900314", "annual_ceiling": MAX_CENTS}, headers=auth(issued, "prefet")
    )
    assert at_max.status_code == 201, at_max.text  # accepted at the bound, and stored
    assert (await store.read_stream(CID))[0].payload["annual_ceiling"] == MAX_CENTS
    for reason, status in (("a\x00b", 422), ("x" * 2001, 422), ("é" * 2000, 200)):
        response = (
            await http.post(
                f"/contracts/{CID}/termination",
                json={"reason": reason, "source": "y" * 500},
                headers=auth(issued, "prefet"),
            )
            if status == 200
            else await http.post(
                f"/contracts/{CID}/termination", json={"reason": reason}, headers=auth(issued, "prefet")
            )
        )
        assert response.status_code == status, response.text
        if status == 422:
            assert response.json()["field"] == "reason"
    assert (await store.read_stream(CID))[-1].payload["reason"] == "é" * 2000  # stored as sent


async def test_bodies_nested_or_encoded_any_way_get_a_problem(api) -> None:  # type: ignore[no-untyped-def]
    http, issued = api
    deep = "[" * 100_000 + "]" * 100_000
    for body in (deep, '{"reason": "\\ud800"}', b"\xff\xfe", '{"reason": ' + deep + "}"):
        content = body.encode() if isinstance(body, str) else body
        headers = auth(issued, "commissaire") | {"Content-Type": "application/json"}
        response = await http.post(f"/contracts/{CID}/suspension", content=content, headers=headers)
        assert response.status_code in (409, 422), (body[:20], response.status_code)
        assert set(response.json()) - {"errors"} == {"code", "message", "field"}  # errors: every refusal found
    response = await http.post(
        "/contracts", content=deep.encode(), headers=auth(issued, "prefet") | {"Content-Type": "application/json"}
    )
    assert response.status_code == 422 and json.loads(response.text)["code"] == "invalid_value"
