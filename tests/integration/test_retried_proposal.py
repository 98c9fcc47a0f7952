"""A proposal sent again with the same Idempotency-Key — its first answer lost to a dropped connection — is answered
with what it recorded, as every other command is (found by issue 28's chaos run: it was refused 409
``already_exists``, so the operator was told the contract existed without being told it was theirs)."""

from __future__ import annotations

import httpx
import pytest

from domain.territories import REFERENCE_TERRITORIES
from eventstore.store import EventStore
from pacte.simulation import actors_for

pytestmark = pytest.mark.integration

TERRITORY = REFERENCE_TERRITORIES["D90"]  # Territoire de Belfort: no other test proposes it
ACTORS = {"prefet": actors_for(TERRITORY)["prefet"]}
BODY = {"territory": "D90", "annual_ceiling": 100_000_000, "occurred_at": "2023-12-04"}


async def test_a_proposal_sent_again_with_its_key_is_answered_what_it_recorded(
    api: tuple[httpx.AsyncClient, dict[str, str]], store: EventStore
) -> None:
    http, issued = api
    headers = {"Authorization": f"Bearer {issued['prefet']}", "Idempotency-Key": "belfort-proposal"}
    first = await http.post("/contracts", json=BODY, headers=headers)
    again = await http.post("/contracts", json=BODY, headers=headers)
    assert first.status_code == 201, first.text
    assert again.status_code == 201, again.text
    assert again.json()["contract_id"] == first.json()["contract_id"] == "cls-d90"
    assert [e["type"] for e in again.json()["events"]] == [e["type"] for e in first.json()["events"]]
    stream = await store.read_stream("cls-d90")
    assert [e.event_type for e in stream].count("ContractProposed") == 1  # recorded once
    # Another proposal for the territory (another key) is still refused: the contract exists.
    other = await http.post("/contracts", json=BODY, headers=headers | {"Idempotency-Key": "belfort-again"})
    assert other.status_code == 409 and other.json()["code"] == "already_exists"
