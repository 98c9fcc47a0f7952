"""Following the money through the API, on the session's real Temporal server and PostgreSQL (issue 30): a contract
taken over with its envelope, commitment and advance of 2024 (import lines like any other), a 2026 envelope and
commitment typed through the new routes, a payment above its commitment refused as a problem that writes nothing,
and the trail read back, year by year, with its gaps stated."""

from __future__ import annotations

from typing import Any

import pytest

from domain.actors import Actor, Role
from eventstore.store import EventStore
from pacte.reprise_file import dump_lines
from tests.integration.helpers import auth
from tests.unit.builders import BORDEAUX_ACTIONS

pytestmark = pytest.mark.integration

TERRITORY, CID = "D16", "cls-d16"  # Département de la Charente (Nouvelle-Aquitaine): its own contract
ACTORS = {
    "prefet": Actor(role=Role.PREFET, identity="prefecture-charente", scope=("16",)),
    "collectivite": Actor(role=Role.COLLECTIVITE, identity="departement-charente", scope=(TERRITORY,)),
    "auditor": Actor(role=Role.AUDITOR, identity="cour-des-comptes", scope=("*",)),
    "prefet_elsewhere": Actor(role=Role.PREFET, identity="prefecture-gironde", scope=("33",)),
}
EUR = 100


def _line(kind: str, day: str, actor: str, **fields: Any) -> dict[str, Any]:
    who = ACTORS[actor].model_dump(mode="json")
    return {"contract_id": CID, "type": kind, "occurred_at": day, "actor": who, "source": "dossier CLS-16", **fields}


def charente_history() -> list[dict[str, Any]]:
    return [
        _line(
            "ProposeContract",
            "2023-12-05",
            "prefet",
            territory_id=TERRITORY,
            annual_ceiling=1_500_000 * EUR,
            draft_actions=[a.model_dump(mode="json") for a in BORDEAUX_ACTIONS if a.axis != "EMPLOI"],
        ),
        _line(
            "RecordDeliberation",
            "2024-02-10",
            "collectivite",
            deliberation={"body": "assemblee", "voted_on": "2024-02-09", "reference": "2024-07"},
        ),
        _line("SignContract", "2024-03-20", "prefet", party="etat", signatory="Préfète de la Charente"),
        _line("SignContract", "2024-03-21", "collectivite", party="collectivite", signatory="Président"),
        _line(
            "RecordEnvelope",
            "2024-04-10",
            "prefet",
            year=2024,
            movement="notification",
            amount=1_100_000 * EUR,
            reference="Notification DDETS 16 du 10 avril 2024",
        ),
        _line("RecordCommitment", "2024-04-20", "prefet", year=2024, ej_number="2104567890", amount=1_100_000 * EUR),
        _line(
            "RecordPayment",
            "2024-05-15",
            "prefet",
            ej_number="2104567890",
            instalment="avance",
            amount=550_000 * EUR,
            document="DP-2024-001",
        ),
    ]


async def test_the_money_trail_through_the_api(api, store: EventStore) -> None:  # type: ignore[no-untyped-def]
    http, issued = api
    headers = auth(issued, "prefet") | {"Content-Type": "application/x-ndjson"}
    response = await http.post("/imports", content=dump_lines(charente_history()).encode(), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["contracts"][0]["outcome"] == "imported", response.text

    envelope = {
        "year": 2026,
        "movement": "notification",
        "amount": 1_000_000 * EUR,
        "reference": "Notification 2026",
        "occurred_at": "2026-02-10",
    }
    answer = await http.post(f"/contracts/{CID}/envelope", json=envelope, headers=auth(issued, "prefet"))
    assert answer.status_code == 200, answer.text
    assert [e["type"] for e in answer.json()["events"]][-1] == "EnvelopeRecorded"
    commitment = {"year": 2026, "ej_number": "2104567891", "amount": 500_000 * EUR, "occurred_at": "2026-02-20"}
    answer = await http.post(f"/contracts/{CID}/commitments", json=commitment, headers=auth(issued, "prefet"))
    assert answer.status_code == 200, answer.text

    version = await store.stream_version(CID)
    too_much = {"ej_number": "2104567891", "instalment": "avance", "amount": 500_000 * EUR + 1, "document": "DP-9"}
    refused = await http.post(f"/contracts/{CID}/payments", json=too_much, headers=auth(issued, "prefet"))
    assert refused.status_code in (409, 422), refused.text
    problem = refused.json()
    assert problem["field"] == "amount" and "above its commitment" in problem["message"], problem
    assert await store.stream_version(CID) == version
    bad_ej = {**commitment, "ej_number": "21-0456789"}
    refused = await http.post(f"/contracts/{CID}/commitments", json=bad_ej, headers=auth(issued, "prefet"))
    assert refused.status_code == 422 and await store.stream_version(CID) == version
    by_collectivite = await http.post(
        f"/contracts/{CID}/commitments",
        json={**commitment, "ej_number": "2104567892"},
        headers=auth(issued, "collectivite"),
    )
    assert by_collectivite.status_code == 403

    rows = (await http.get(f"/contracts/{CID}/money-trail", headers=auth(issued, "auditor"))).json()
    by_year = {r["year"]: r for r in rows}
    y2024 = by_year[2024]
    assert (y2024["notified"], y2024["committed"], y2024["paid"]) == (110_000_000, 110_000_000, 55_000_000)
    assert y2024["payments_recorded"] is True
    assert not by_year[2025]["payments_recorded"] and by_year[2025]["paid"] is None
    assert "payments_not_recorded" in by_year[2025]["gaps"] and "envelope_not_notified" in by_year[2025]["gaps"]
    assert by_year[2026]["available"] == 100_000_000 and "envelope_below_programme" in by_year[2026]["gaps"]
    elsewhere = await http.get(f"/contracts/{CID}/money-trail", headers=auth(issued, "prefet_elsewhere"))
    assert elsewhere.status_code == 403

    # A Chorus extract for the contract: a dry run first records nothing, then the import; the same file twice
    # changes nothing. A duplicate line, an unknown EJ, an overpayment and a line of another programme are reported.
    header = "Numéro EJ;Poste EJ;Numéro pièce;Date;Montant;SIRET;Centre financier;Domaine fonctionnel"
    rows = [
        "2104567891;1;DP-2026-1;{today};100 000,00;22160001700011;0304-CDBU-DR16;0304-23",
        "2104567891;1;DP-2026-1;{today};100 000,00;22160001700011;0304-CDBU-DR16;0304-23",
        "2109999999;1;DP-2026-2;{today};1 000,00;22160001700011;0304-CDBU-DR16;0304-23",
        "2104567891;2;DP-2026-3;{today};450 000,00;22160001700011;0304-CDBU-DR16;0304-23",
        "2104567891;1;DP-2026-4;{today};1 000,00;22160001700011;0304-CDBU-DR16;0177-01",
    ]
    today = "02/03/2026"  # after the commitment, before the calendar's later facts
    extract = "\ufeff" + "\n".join([header, *(r.format(today=today) for r in rows)]) + "\n"
    csv_headers = auth(issued, "prefet") | {"Content-Type": "text/csv"}
    version = await store.stream_version(CID)
    dry = await http.post("/accounting-extracts", content=extract.encode(), headers=csv_headers)
    assert dry.status_code == 200, dry.text
    assert [o["outcome"] for o in dry.json()] == [
        "would_record",
        "unchanged",
        "unmatched",
        "refused",
        "unmatched",
    ], dry.json()
    assert "above its commitment" in dry.json()[3]["reason"] and "2109999999" in dry.json()[2]["reason"]
    assert await store.stream_version(CID) == version
    for expected in (
        ["recorded", "unchanged", "unmatched", "refused", "unmatched"],
        ["unchanged", "unchanged", "unmatched", "refused", "unmatched"],
    ):
        done = await http.post(
            "/accounting-extracts", params={"dry_run": "false"}, content=extract.encode(), headers=csv_headers
        )
        assert [o["outcome"] for o in done.json()] == expected, done.text
    rows_now = (await http.get(f"/contracts/{CID}/money-trail", headers=auth(issued, "auditor"))).json()
    assert {r["year"]: r for r in rows_now}[2026]["paid"] == 100_000 * EUR
    assert await store.stream_version(CID) == version + 1
    refused = await http.post("/accounting-extracts", content=extract.encode(), headers=auth(issued, "auditor"))
    assert refused.status_code == 403
