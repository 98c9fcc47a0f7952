"""Through the API and the workflows, on real servers: a contract taken over with its 2024 history, a committee
review typed late that withdraws the missed review, "what was true" versus "what we knew then", and bad import files
that write nothing for the contract concerned."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from domain.actors import Actor, Role
from domain.business_time import start_of_day
from eventstore.store import EventStore
from pacte.reprise_file import dump_lines
from tests.integration.helpers import auth
from tests.unit.builders import BORDEAUX_ACTIONS
from tests.waiting import eventually

pytestmark = pytest.mark.integration

NANTES, CID = "244400404", "cls-244400404"  # Nantes Métropole (Loire-Atlantique, Pays de la Loire)
ACTORS = {
    "prefet": Actor(role=Role.PREFET, identity="prefecture-loire-atlantique", scope=("44",)),
    "collectivite": Actor(role=Role.COLLECTIVITE, identity="nantes-metropole", scope=(NANTES,)),
    "commissaire": Actor(role=Role.COMMISSAIRE, identity="commissaire-pdl", scope=("52",)),
    "auditor": Actor(role=Role.AUDITOR, identity="cour-des-comptes", scope=("*",)),
    "prefet_elsewhere": Actor(role=Role.PREFET, identity="prefecture-gironde", scope=("33",)),
    "prefet_31": Actor(role=Role.PREFET, identity="prefecture-haute-garonne", scope=("31",)),
    "toulouse": Actor(role=Role.COLLECTIVITE, identity="toulouse-metropole", scope=("243100518",)),
    "prefet_57": Actor(role=Role.PREFET, identity="prefecture-moselle", scope=("57",)),
    "prefet_53": Actor(role=Role.PREFET, identity="prefecture-mayenne", scope=("53",)),
    "mayenne": Actor(role=Role.COLLECTIVITE, identity="departement-mayenne", scope=("D53",)),
    "national": Actor(role=Role.PREFET, identity="dgcs", scope=("*",)),
    "prefet_79": Actor(role=Role.PREFET, identity="prefecture-deux-sevres", scope=("79",)),
    "deux_sevres": Actor(role=Role.COLLECTIVITE, identity="departement-deux-sevres", scope=("D79",)),
    "commissaire_75": Actor(role=Role.COMMISSAIRE, identity="commissaire-nouvelle-aquitaine", scope=("75",)),
}


def who(name: str) -> dict[str, Any]:
    return ACTORS[name].model_dump(mode="json")


def nantes_history(
    contract_id: str = CID, territory: str = NANTES, collectivite: str = "collectivite"
) -> list[dict[str, Any]]:
    """Nantes Métropole from the préfecture's files: proposed, voted, signed on 28 March 2024; no review typed yet."""
    src = "convention CLS Nantes Métropole signée le 28/03/2024, réf. CLS-44-2024-01"
    base = {"contract_id": contract_id, "source": src}
    return [
        base
        | {
            "type": "ProposeContract",
            "occurred_at": "2023-12-05",
            "actor": who("prefet"),
            "territory_id": territory,
            "annual_ceiling": 150_000_000,
            "draft_actions": [
                a.model_dump(mode="json") for a in BORDEAUX_ACTIONS if territory == NANTES or a.axis != "EMPLOI"
            ],
        },
        base
        | {
            "type": "RecordDeliberation",
            "occurred_at": "2024-02-10",
            "actor": who(collectivite),
            "source": "délibération du conseil métropolitain n° 2024-07",
            "deliberation": {"body": "assemblee", "voted_on": "2024-02-09", "reference": "2024-07"},
        },
        base
        | {
            "type": "SignContract",
            "occurred_at": "2024-03-28",
            "actor": who("prefet"),
            "party": "etat",
            "signatory": "Préfet de la Loire-Atlantique",
        },
        base
        | {
            "type": "SignContract",
            "occurred_at": "2024-03-28",
            "actor": who(collectivite),
            "party": "collectivite",
            "signatory": "Présidente de Nantes Métropole",
        },
    ]


async def post_import(
    http: httpx.AsyncClient, issued: dict[str, str], text: str, as_: str = "prefet"
) -> httpx.Response:
    headers = auth(issued, as_) | {"Content-Type": "application/x-ndjson"}
    return await http.post("/imports", content=text.encode(), headers=headers)


async def test_taking_over_nantes_then_a_late_review_then_both_time_axes(api, store: EventStore) -> None:  # type: ignore[no-untyped-def]
    http, issued = api
    response = await post_import(http, issued, dump_lines(nantes_history()))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["imported"] == 1 and report["contracts"][0]["outcome"] == "imported", report

    state = (await http.get(f"/contracts/{CID}", headers=auth(issued, "prefet"))).json()
    missed = {(m["deadline"], m["year"]) for m in state["missed_deadlines"]}
    assert ("signature", None) not in missed  # signed on 28 March: the 31 March deadline was met
    assert {("committee_review", 2024), ("renewal", 2025)} <= missed  # those never came: facts at their dates
    assert state["current_year"] == datetime.now(UTC).year and state["status"] == "IN_EXECUTION"

    # The same file again changes nothing.
    version = await store.stream_version(CID)
    again = (await post_import(http, issued, dump_lines(nantes_history()))).json()
    assert again["unchanged"] == 1 and again["contracts"][0]["events"] == 0, again
    assert await store.stream_version(CID) == version
    known_before_review = datetime.now(UTC)

    # The committee of 15 December 2024, typed today: in time, and the missed review is withdrawn.
    review = {
        "year": 2024,
        "review_date": "2024-12-15",
        "findings": "Conforme",
        "decision": "CONTINUE",
        "occurred_at": "2024-12-15",
    }
    response = await http.post(f"/contracts/{CID}/committee-reviews", json=review, headers=auth(issued, "commissaire"))
    assert response.status_code == 200, response.text
    assert [e["type"] for e in response.json()["events"]] == ["CommitteeReviewRecorded", "DeadlineMissedWithdrawn"]
    state = response.json()["state"]
    assert ("committee_review", 2024) not in {(m["deadline"], m["year"]) for m in state["missed_deadlines"]}

    timeline = (await http.get(f"/contracts/{CID}/timeline", headers=auth(issued, "auditor"))).json()
    signed = [e for e in timeline if e["event_type"] == "PartySigned"]
    assert all(e["imported"] and e["recorded_by"] == "prefecture-loire-atlantique" for e in signed)
    assert signed[1]["identity"] == "nantes-metropole" and signed[1]["source"].startswith("convention CLS")
    missed_review = next(
        e
        for e in timeline
        if e["event_type"] == "DeadlineMissed"
        and e["payload"]["deadline"] == "committee_review"
        and e["payload"]["year"] == 2024
    )
    late_review = next(e for e in timeline if e["event_type"] == "CommitteeReviewRecorded")
    assert missed_review["withdrawn_by"] is not None and late_review["late_by_days"] > 600
    assert missed_review["occurred_at"].startswith("2024-12-31T23:00")  # midnight in Paris, 1 January 2025

    # What was true on 2 January 2025, and what we knew of it before the review was typed.
    truth = (await http.get(f"/contracts/{CID}/as-of/2025-01-02", headers=auth(issued, "auditor"))).json()
    then = (
        await http.get(
            f"/contracts/{CID}/as-of/2025-01-02",
            params={"known_at": known_before_review.isoformat()},
            headers=auth(issued, "auditor"),
        )
    ).json()
    assert ("committee_review", 2024) not in {(m["deadline"], m["year"]) for m in truth["missed_deadlines"]}
    assert ("committee_review", 2024) in {(m["deadline"], m["year"]) for m in then["missed_deadlines"]}
    assert truth["years"]["2024"]["reviews"] and not then["years"]["2024"]["reviews"]

    changes = (
        await http.get(
            f"/contracts/{CID}/changes",
            params={"start": "2024-12-01", "end": "2025-01-31"},
            headers=auth(issued, "auditor"),
        )
    ).json()
    assert changes["from_late_records_or_corrections"]
    assert {e["why"] for e in changes["events"]} >= {"late_record", "withdrawal", "calendar"}

    verify = (await http.get("/audit/verify", headers=auth(issued, "auditor"))).json()
    assert verify["ok"], verify  # the chain covers the new fields (recorded_by, source)


@pytest.mark.parametrize(
    ("name", "change", "line", "field"),
    [
        ("a date in the future", lambda ls: ls[3].update(occurred_at="2031-01-01"), 4, "occurred_at"),
        ("a rule broken", lambda ls: ls[2].update(occurred_at="2024-02-08"), 3, "occurred_at"),  # before the vote
        ("the party is not the contract's", lambda ls: ls[1].update(actor=who("prefet_elsewhere")), 2, "actor"),
        # Its own préfet's role, but the role a rule forbids at that step.
        ("the role is not the step's", lambda ls: ls[1].update(actor=who("prefet")), 2, "actor.role"),
        ("an unreadable amount", lambda ls: ls[0].update(annual_ceiling=1.5), 1, "annual_ceiling"),
    ],
)
async def test_a_bad_file_is_refused_for_its_contract_and_writes_nothing(  # type: ignore[no-untyped-def]
    api, store: EventStore, name: str, change: Any, line: int, field: str
) -> None:
    http, issued = api
    bad = nantes_history("cls-d44", "D44", "prefet")  # the Loire-Atlantique département, its own contract
    for entry in bad[1:2] + bad[3:]:
        entry["actor"] = who("prefet") | {"role": "collectivite", "identity": "departement-44", "scope": ["D44"]}
    change(bad)
    response = await post_import(http, issued, dump_lines(bad))
    assert response.status_code == 200, response.text
    outcome = response.json()["contracts"][0]
    assert (outcome["outcome"], outcome["line"], outcome["field"]) == ("refused", line, field), outcome
    assert await store.stream_version("cls-d44") == 0


async def test_malformed_files_and_importers_out_of_scope_are_refused(api, store: EventStore) -> None:  # type: ignore[no-untyped-def]
    http, issued = api
    response = await post_import(http, issued, '{"contract_id": "cls-d44"\n')
    assert response.status_code == 422 and response.json()["field"] == "line" and "line 1" in response.json()["message"]
    response = await post_import(http, issued, dump_lines(nantes_history("cls-d44", "D44")), as_="prefet_elsewhere")
    assert response.json()["contracts"][0]["code"] == "out_of_scope"
    response = await post_import(http, issued, dump_lines(nantes_history()), as_="collectivite")
    assert response.status_code == 403
    assert await store.stream_version("cls-d44") == 0


async def test_occurred_at_is_checked_at_the_door(api) -> None:  # type: ignore[no-untyped-def]
    http, issued = api
    for value, status in (("2031-05-01", 422), (0, 422), ("hier", 422)):
        response = await http.post(
            f"/contracts/{CID}/suspension",
            json={"reason": "r", "occurred_at": value},
            headers=auth(issued, "commissaire"),
        )
        assert response.status_code == status, response.text
        assert response.json()["field"] == "occurred_at"


async def test_a_contract_typed_by_hand_today_gets_the_calendar_facts_at_their_own_dates(
    api, store: EventStore
) -> None:  # type: ignore[no-untyped-def]
    """Each command typed today with its real 2024 date; between commands the workflow's timers wake far past their
    dates. Every calendar fact must still carry its nominal date, in the calendar's order, as an import would."""
    http, issued = api
    cid = "cls-243100518"
    actions = [a.model_dump(mode="json") for a in BORDEAUX_ACTIONS]
    steps = [
        (
            "prefet_31",
            "/contracts",
            {
                "territory": "243100518",
                "annual_ceiling": 150_000_000,
                "draft_actions": actions,
                "occurred_at": "2023-12-04",
            },
        ),
        (
            "toulouse",
            f"/contracts/{cid}/deliberation",
            {
                "deliberation": {"body": "assemblee", "voted_on": "2024-02-02", "reference": "D-2024-3"},
                "occurred_at": "2024-02-03",
            },
        ),
        (
            "prefet_31",
            f"/contracts/{cid}/signatures",
            {"party": "etat", "signatory": "Préfet", "occurred_at": "2024-03-20"},
        ),
        (
            "toulouse",
            f"/contracts/{cid}/signatures",
            {"party": "collectivite", "signatory": "Président", "occurred_at": "2024-03-21"},
        ),
    ]
    for name, path, body in steps:
        response = await http.post(path, json=body, headers=auth(issued, name))
        assert response.status_code in (200, 201), response.text

    async def this_year_opened() -> dict[str, Any] | None:  # the timers run after the last answer
        state = (await http.get(f"/contracts/{cid}", headers=auth(issued, "prefet_31"))).json()
        return state if state["current_year"] == datetime.now(UTC).year else None

    state = await eventually(this_year_opened, what="the calendar brought up to this year")
    events = await store.read_stream(cid)
    opened = {e.payload["year"]: e.occurred_at for e in events if e.event_type == "ProgrammeYearOpened"}
    assert opened[2025] == start_of_day(date(2025, 1, 1)) and opened[2026] == start_of_day(date(2026, 1, 1))
    calendar = [e.occurred_at for e in events if e.metadata["actor"]["role"] == "system"]
    assert calendar == sorted(calendar)  # in the calendar's order, whenever the timers woke
    assert ("signature", None) not in {(m["deadline"], m["year"]) for m in state["missed_deadlines"]}


async def test_a_territory_whose_contract_ended_before_signature_can_have_another(api, store: EventStore) -> None:  # type: ignore[no-untyped-def]
    """Metz Métropole: proposed, terminated before anyone signed, proposed again — a new stream linked to the first;
    both stay readable; a third proposal while the second runs is refused."""
    http, issued = api
    body = {"territory": "200039865", "annual_ceiling": 90_000_000}
    first = await http.post("/contracts", json=body, headers=auth(issued, "prefet_57"))
    assert first.status_code == 201 and first.json()["contract_id"] == "cls-200039865"
    ended = await http.post(
        "/contracts/cls-200039865/termination", json={"reason": "Plafond erroné"}, headers=auth(issued, "prefet_57")
    )
    assert ended.status_code == 200 and ended.json()["state"]["balance"]["reversement"] == 0
    again = await http.post("/contracts", json=body | {"annual_ceiling": 95_000_000}, headers=auth(issued, "prefet_57"))
    assert again.status_code == 201, again.text
    assert again.json()["contract_id"] == "cls-200039865-2" and again.json()["events"][0]["replaces"] == "cls-200039865"
    third = await http.post("/contracts", json=body, headers=auth(issued, "prefet_57"))
    assert third.status_code == 409
    listed = {c["contract_id"] for c in (await http.get("/contracts", headers=auth(issued, "auditor"))).json()}
    assert {"cls-200039865", "cls-200039865-2"} <= listed
    old = await http.get("/contracts/cls-200039865/timeline", headers=auth(issued, "auditor"))
    assert [e["event_type"] for e in old.json()][-1] == "ContractTerminated"
    stored = await store.read_stream("cls-200039865-2")
    assert stored[0].event_type == "ContractProposed" and stored[0].payload["replaces"] == "cls-200039865"


async def test_an_imported_person_is_declared_and_only_the_territorys_parties_are_named(api, store: EventStore) -> None:  # type: ignore[no-untyped-def]
    """Issue 25, item 8: a file attributed a signature to a national "ministre", and named a real agent (her sub,
    name and e-mail) as the person who voted; the first is refused for the contract with nothing written, the second
    is recorded as declared by the import, never as the agent signed in."""
    http, issued = api
    history = nantes_history("cls-d53", "D53", "mayenne")
    for entry in history:
        if entry["actor"]["role"] == "prefet":
            entry["actor"] = who("prefet_53")
    agent = {"sub": "sub-of-a-real-agent", "name": "Marie Dupont", "email": "marie.dupont@mayenne.fr"}
    history[1]["actor"] = who("mayenne") | {"person": agent | {"declared": False}}  # it claims not to be declared
    forged = [dict(e) for e in history]
    forged[2]["actor"] = {"role": "prefet", "identity": "ministre", "scope": ["*"]}
    refused = (await post_import(http, issued, dump_lines(forged), as_="prefet_53")).json()["contracts"][0]
    assert (refused["outcome"], refused["line"], refused["field"]) == ("refused", 3, "actor"), refused
    assert await store.stream_version("cls-d53") == 0

    imported = (await post_import(http, issued, dump_lines(history), as_="prefet_53")).json()["contracts"][0]
    assert imported["outcome"] == "imported", imported
    timeline = (await http.get("/contracts/cls-d53/timeline", headers=auth(issued, "auditor"))).json()
    voted = next(e for e in timeline if e["event_type"] == "DeliberationRecorded")
    assert voted["person"] == agent | {"declared": True}
    assert all(not (e["person"] or {}).get("declared") for e in timeline if e["event_type"] != "DeliberationRecorded")
    csv_text = (
        await http.get("/exports/events.csv", params={"contract_id": "cls-d53"}, headers=auth(issued, "auditor"))
    ).text
    assert "Marie Dupont <marie.dupont@mayenne.fr> (déclaré par l'import)" in csv_text
    # Its workflow writes its reminders after the import's answer: waited for here, so that a later module's check
    # that a request wrote nothing does not see them land (the session's store is shared).
    reminders = "SELECT count(*) FROM reminders WHERE contract_id = 'cls-d53'"
    await eventually(lambda: store.pool.fetchval(reminders), what="cls-d53's reminders written")


async def test_who_may_attest_a_territorys_history_by_import(api, store: EventStore) -> None:  # type: ignore[no-untyped-def]
    """Issue 24, defect 9: the importer attests each line. A préfet of another département attests none of the
    Sarthe's (refused at line 1, field and rule named, nothing written); a national-scope préfet attests them all, its
    lines' actors being the Sarthe's own parties."""
    http, issued = api
    history = nantes_history("cls-d72", "D72", "prefet")
    for entry in history:
        entry["actor"] = (
            {"role": "prefet", "identity": "prefecture-sarthe", "scope": ["72"]}
            if entry.get("party") != "collectivite" and entry["type"] != "RecordDeliberation"
            else {"role": "collectivite", "identity": "departement-sarthe", "scope": ["D72"]}
        )
    refused = (await post_import(http, issued, dump_lines(history), as_="prefet_elsewhere")).json()["contracts"][0]
    assert (refused["outcome"], refused["code"]) == ("refused", "out_of_scope"), refused
    assert await store.stream_version("cls-d72") == 0
    imported = (await post_import(http, issued, dump_lines(history), as_="national")).json()["contracts"][0]
    assert imported["outcome"] == "imported", imported
    timeline = (await http.get("/contracts/cls-d72/timeline", headers=auth(issued, "auditor"))).json()
    signed = [e for e in timeline if e["event_type"] == "PartySigned"]
    assert {e["identity"] for e in signed} == {"prefecture-sarthe", "departement-sarthe"}
    assert {e["recorded_by"] for e in signed} == {"dgcs"} and all(e["imported"] for e in signed)
    reminders = "SELECT count(*) FROM reminders WHERE contract_id = 'cls-d72'"
    await eventually(lambda: store.pool.fetchval(reminders), what="cls-d72's reminders written")


async def test_a_pending_renewal_is_withdrawn_by_its_proposer_through_the_api(api, store: EventStore) -> None:  # type: ignore[no-untyped-def]
    """Issue 24, defect 7: the Deux-Sèvres' renewal for 2027, imported as proposed and signed by the État, is
    withdrawn by the préfet (not by the collectivité: it did not propose it), then proposed again."""
    http, issued = api
    history = nantes_history("cls-d79", "D79", "deux_sevres")
    for entry in history:
        if entry["actor"]["role"] == "prefet":
            entry["actor"] = who("prefet_79")
    actions = history[0]["draft_actions"]
    base = {"contract_id": "cls-d79", "source": "dossier de la préfecture"}
    history += [
        base | {"type": "RecordCommitteeReview", "occurred_at": "2026-10-13", "actor": who("commissaire_75"),
                "year": 2026, "review_date": "2026-10-13", "findings": "ok", "decision": "CONTINUE"},
        base | {"type": "Renew", "occurred_at": "2026-11-20", "actor": who("prefet_79"), "year": 2027,
                "amounts": {a["action_id"]: a["amounts"]["2027"] for a in actions[:1]}},
        base | {"type": "SignAvenant", "occurred_at": "2026-11-21", "actor": who("prefet_79"),
                "avenant_id": "renewal-2027", "party": "etat", "signatory": "Préfète des Deux-Sèvres"},
    ]  # fmt: skip
    imported = (await post_import(http, issued, dump_lines(history), as_="prefet_79")).json()["contracts"][0]
    assert imported["outcome"] == "imported", imported
    url = "/contracts/cls-d79/avenants/renewal-2027/withdrawal"
    before = await store.stream_version("cls-d79")
    refused = await http.post(url, json={"reason": "non"}, headers=auth(issued, "deux_sevres"))
    assert refused.status_code == 409 and refused.json()["field"] == "avenant_id", refused.text
    assert "proposer" in refused.json()["message"] and await store.stream_version("cls-d79") == before
    done = await http.post(url, json={"reason": "montants à revoir"}, headers=auth(issued, "prefet_79"))
    assert done.status_code == 200, done.text
    assert [e["type"] for e in done.json()["events"]] == ["AvenantWithdrawn"]
    assert "renewal-2027" not in done.json()["state"]["avenants"]
    again = await http.post(
        "/contracts/cls-d79/renewals",
        json={"year": 2027, "amounts": {a["action_id"]: a["amounts"]["2027"] for a in actions[:2]}},
        headers=auth(issued, "prefet_79"),
    )
    assert again.status_code == 200, again.text
    assert again.json()["state"]["avenants"]["renewal-2027"]["signatures"] == []
