"""The operators' forms as agents fill them, against a service of their own (its own PostgreSQL database and
Temporal server, so Bordeaux Métropole's contract here meets no other test's): French dates in every date field, what a
confirmation page shows, refusals in French at their fields, fiches edited and read back, and a form that survives
the end of its session."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from html import unescape
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
from playwright.async_api import Browser as Chromium
from playwright.async_api import expect

from domain.business_time import business_date
from pacte.service.catalogue import ProposeBody
from pacte.tokens import DEMO
from pacte.web.formats import euros
from tests.waiting import eventually
from tests.web.conftest import Browser, Stack, free_port, fresh_stack, serving

pytestmark = pytest.mark.integration

PREFET, COLLECTIVITE = DEMO["prefet"], DEMO["collectivite"]
BORDEAUX = "cls-243300316"
YEARS = ("2024", "2025", "2026", "2027")
AXES = {"A1": "ENFANCE", "A2": "EMPLOI", "A3": "GRANDE_EXCLUSION", "A4": "TRANSITION_ECOLOGIQUE"}


@pytest.fixture(scope="module")
async def stack(postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with fresh_stack(postgres_server_url, tmp_path_factory.mktemp("forms-data")) as own:
        yield own


@pytest.fixture
async def browser(stack: Stack) -> AsyncIterator[Browser]:
    transport = httpx.ASGITransport(app=stack.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pacte") as http:
        yield Browser(http)


def action_body(action_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "action_id": action_id,
        "axis": "ENFANCE",
        "objective": f"Objectif {action_id}",
        "title": f"Fiche {action_id}",
        "nature": "new",
        "public": "familles",
        "zone": "Gironde",
        "indicators": [
            {"code": "beneficiaires", "label": "Bénéficiaires", "baseline": 100, "targets": dict.fromkeys(YEARS, 120)},
            {"code": "places", "label": "Places", "baseline": 10, "targets": {**dict.fromkeys(YEARS, 15), "2027": 30}},
        ],
        "amounts": {year: {"etat": 10_000_000, "collectivite": 10_000_000} for year in YEARS},
        **overrides,
    }


async def bordeaux(stack: Stack, *actions: str) -> None:
    """Bordeaux Métropole's contract proposed (1 December 2023), with these fiches actions, whatever earlier tests
    did."""
    if await stack.pacte.store.stream_version(BORDEAUX) == 0:
        body = ProposeBody(territory="243300316", annual_ceiling=100_000_000, occurred_at=date(2023, 12, 1))
        await stack.pacte.propose(PREFET, body)
    state = await stack.pacte.contract(PREFET, BORDEAUX)
    for action_id in actions:
        if action_id not in state.actions:
            await stack.pacte.command(
                PREFET,
                "AddAction",
                {"contract_id": BORDEAUX},
                {"action": action_body(action_id, axis=AXES[action_id]), "occurred_at": "2024-01-10"},
            )


async def deliberated(stack: Stack) -> None:
    await bordeaux(stack, *AXES)
    state = await stack.pacte.contract(PREFET, BORDEAUX)
    if state.deliberation is None:
        deliberation = {"body": "assemblee", "voted_on": "2024-02-01", "reference": "DEL-2024-01"}
        await stack.pacte.command(
            COLLECTIVITE,
            "RecordDeliberation",
            {"contract_id": BORDEAUX},
            {"deliberation": deliberation, "occurred_at": "2024-02-02"},
        )


def refusal(page: str) -> str:
    """The refusal's summary (for a failing assertion to say what was refused)."""
    found = re.search(r'<div class="fr-alert fr-alert--error.*?</div>', unescape(page), re.S)
    return found.group(0) if found else ""


def field_error(page: str, name: str) -> str:
    """The error shown at an input (empty if none)."""
    found = re.search(rf'id="champ-{re.escape(name.replace(".", "-"))}-erreur" class="fr-error-text">([^<]*)<', page)
    return found.group(1) if found else ""


async def test_a_proposal_takes_a_french_date(browser: Browser, stack: Stack) -> None:
    await browser.sign_in("prefet")
    await browser.get("/ui/contrats/proposer")
    answer = await browser.post(
        "/ui/contrats/proposer",
        {"territory": "243300316", "annual_ceiling": "1 000 000,00 €", "occurred_at": "01/12/2023"},
    )
    assert answer.status_code == 303, answer.text
    first = (await stack.pacte.store.read_stream(BORDEAUX))[0]
    assert first.event_type == "ContractProposed" and business_date(first.occurred_at) == date(2023, 12, 1)


async def test_the_confirmation_shows_the_date_of_the_fact_even_when_left_empty(browser: Browser, stack: Stack) -> None:
    await deliberated(stack)
    await browser.sign_in("prefet")
    form = f"/ui/contrats/{BORDEAUX}/actes/signature"
    await browser.get(form)
    page = await browser.post(form, {"party": "etat", "signatory": "Le préfet", "occurred_at": ""})
    assert page.status_code == 200 and "Je confirme" in page.text, refusal(page.text)
    today = business_date(datetime.now(UTC)).strftime("%d/%m/%Y")
    assert f'<dt class="fr-text--bold">Date du fait</dt><dd>aujourd\'hui ({today})</dd>' in unescape(page.text)
    # A date given in ISO is shown as agents write it.
    page = await browser.post(form, {"party": "etat", "signatory": "Le préfet", "occurred_at": "2024-03-05"})
    assert '<dt class="fr-text--bold">Date du fait</dt><dd>05/03/2024</dd>' in page.text


async def test_a_party_signs_the_contract_seeing_its_fiches_and_their_money(browser: Browser, stack: Stack) -> None:
    """Found by a user walk: the contract's signature was confirmed with no fiche and no amount shown. (Here, while
    Bordeaux is deliberated and unsigned: later tests of this module sign it, and the module runs in order.)"""
    await deliberated(stack)
    state = await stack.pacte.contract(DEMO["auditor"], BORDEAUX)
    assert state.actions
    await browser.sign_in("prefet")
    form = f"/ui/contrats/{BORDEAUX}/actes/signature"
    opened = unescape((await browser.get(form)).text)
    confirming = unescape(
        (await browser.post(form, {"party": "etat", "signatory": "Le préfet", "occurred_at": ""})).text
    )
    assert "Je confirme" in confirming
    for shown in (opened, confirming):
        assert "Ce que vous signez" in shown
        for action_id, action in state.actions.items():
            first = min(action.amounts)
            assert f"{action_id} — {action.title}" in shown and euros(action.amounts[first].etat) in shown


async def test_every_problem_of_a_form_is_shown_at_once_in_french_at_its_field(browser: Browser, stack: Stack) -> None:
    await bordeaux(stack, *AXES)
    before = await stack.pacte.store.stream_version(BORDEAUX)
    await browser.sign_in("prefet")
    form = f"/ui/contrats/{BORDEAUX}/actes/ajouter-une-action"
    await browser.get(form)
    page = await browser.post(
        form,
        {
            "action.action_id": "A9",
            "action.axis": "ENFANCE",
            "action.objective": "Objectif",
            "action.nature": "new",
            "action.public": "familles",
            "action.zone": "Bordeaux",
            "action.indicators.0.code": "familles",
            "action.indicators.0.label": "Familles",
            "action.indicators.0.targets.2024": "10",
            "action.amounts.2024.etat": "beaucoup",
            "action.amounts.2024.collectivite": "1.500",
            "action.indicators.0.baseline": "cent",
            "occurred_at": "32/01/2024",
        },
    )
    assert page.status_code == 422
    text = unescape(page.text)
    assert (
        field_error(text, "action.amounts.2024.etat")
        == "« beaucoup » n'est pas un montant : écrivez-le en euros, par exemple 1 500 000,00 €."
    )
    assert field_error(text, "action.amounts.2024.collectivite").startswith("« 1.500 » n'est pas un montant")
    assert field_error(text, "action.indicators.0.baseline") == "« cent » n'est pas un nombre entier."
    assert field_error(text, "occurred_at").startswith("« 32/01/2024 » n'est pas une date")
    # And what the schema says of the rest, in the same answer: the fiche's title is missing.
    assert field_error(text, "action.title") == "Ce champ est obligatoire."
    assert "5 points à corriger" in text, refusal(text)
    assert '<a href="#champ-action-title">Intitulé : Ce champ est obligatoire.</a>' in text
    assert '<ul lang="en">' in text  # the rules' own sentences, marked as English
    assert_summary_names_each_field(text)
    assert await stack.pacte.store.stream_version(BORDEAUX) == before


def assert_summary_names_each_field(page: str) -> None:
    """Every entry of a refusal's summary links to what it is about on the page and names it by the label the page
    gives it (found by a user walk: "Ce champ est obligatoire." alone, naming no field)."""
    summary = refusal(page)
    entries = re.findall(r"<li>(.*?)</li>", summary.split("<details")[0], re.S)
    assert entries, summary
    for entry in entries:
        linked = re.fullmatch(r'<a href="#([^"]+)">([^<]+?) : ([^<]+)</a>', entry.strip())
        assert linked, f"not linked to a named field: {entry!r}"
        anchor, named, _ = linked.groups()
        label = re.search(rf'<label class="fr-label" for="{anchor}">([^<]+)', page) or re.search(
            rf'id="{anchor}"[^>]*>\s*<legend class="fr-fieldset__legend">([^<]+)', page
        )
        assert label, f"{anchor}: no such input or group on the page"
        assert named.endswith(label.group(1).removesuffix(" (facultatif)").strip()), (named, label.group(1))


async def test_a_refused_irreversible_act_is_never_confirmed(browser: Browser, stack: Stack) -> None:
    await deliberated(stack)
    before = await stack.pacte.store.stream_version(BORDEAUX)
    await browser.sign_in("prefet")
    form = f"/ui/contrats/{BORDEAUX}/actes/signature"
    await browser.get(form)
    page = await browser.post(form, {"party": "collectivite", "signatory": "Le préfet"})
    assert page.status_code == 422 and "Je confirme" not in page.text
    assert field_error(unescape(page.text), "party") == (
        "Le rôle préfet signe pour sa propre partie, pas pour la partie collectivité."
    )
    assert await stack.pacte.store.stream_version(BORDEAUX) == before


async def test_a_future_date_is_said_to_be_in_the_future(browser: Browser, stack: Stack) -> None:
    await bordeaux(stack, *AXES)
    await browser.sign_in("prefet")
    form = f"/ui/contrats/{BORDEAUX}/actes/retirer-une-action?action_id=A1"
    await browser.get(form)
    page = await browser.post(form, {"occurred_at": "28/03/2099"})
    assert page.status_code == 422
    assert field_error(unescape(page.text), "occurred_at") == (
        "Le 28 mars 2099 est dans le futur : un fait s'enregistre une fois qu'il a eu lieu."
    )


GIRONDE = "cls-d33"
INPUT = re.compile(r"<input\b[^>]*>")
SELECT = re.compile(r'<select\b[^>]*name="([^"]+)"[^>]*>(.*?)</select>', re.S)
TEXTAREA = re.compile(r'<textarea\b[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', re.S)


def attribute(tag: str, name: str) -> str | None:
    found = re.search(rf'\b{name}="([^"]*)"', tag)
    return unescape(found.group(1)) if found else None


def form_values(page: str) -> dict[str, str]:
    """What a browser sends back from the page's main form, untouched (hidden inputs, texts, selects, textareas,
    checked boxes)."""
    form = page[page.index('<form method="post" action="/ui/contrats/') :]
    form = form[: form.index("</form>")]
    values: dict[str, str] = {}
    for tag in INPUT.findall(form):
        name = attribute(tag, "name")
        if name is None or name == "csrf_token":
            continue
        if attribute(tag, "type") == "checkbox" and " checked" not in tag:
            continue
        values[name] = attribute(tag, "value") or ""
    for name, options in SELECT.findall(form):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        values[name] = unescape(chosen.group(1)) if chosen else ""
    for name, text in TEXTAREA.findall(form):
        values[name] = unescape(text)
    return values


async def gironde_with_a_fiche(stack: Stack) -> None:
    if await stack.pacte.store.stream_version(GIRONDE) == 0:
        body = ProposeBody(territory="D33", annual_ceiling=100_000_000, occurred_at=date(2023, 12, 1))
        await stack.pacte.propose(PREFET, body)
        fiche = {"action": action_body("G1"), "occurred_at": "2024-01-10"}
        await stack.pacte.command(PREFET, "AddAction", {"contract_id": GIRONDE}, fiche)


async def test_a_fiche_with_two_indicators_sent_back_untouched_records_nothing(browser: Browser, stack: Stack) -> None:
    await gironde_with_a_fiche(stack)
    before = await stack.pacte.store.stream_version(GIRONDE)
    await browser.sign_in("prefet")
    form = f"/ui/contrats/{GIRONDE}/actes/modifier-une-action?action_id=G1"
    opened = form_values((await browser.get(form)).text)
    assert opened["action.indicators.0.code"] == "beneficiaires" and opened["action.indicators.1.code"] == "places"
    assert opened["action.indicators.1.targets.2027"] == "30"
    answer = await browser.post(form, opened)
    assert answer.status_code == 303, refusal(answer.text)
    assert "Rien n'a changé" in unescape((await browser.get(answer.headers["location"])).text)
    assert await stack.pacte.store.stream_version(GIRONDE) == before


async def test_a_fiche_edited_in_the_browser_reads_back_exactly(browser: Browser, stack: Stack) -> None:
    await gironde_with_a_fiche(stack)
    await browser.sign_in("prefet")
    form = f"/ui/contrats/{GIRONDE}/actes/modifier-une-action?action_id=G1"
    edited = form_values((await browser.get(form)).text)
    edited |= {"action.indicators.1.targets.2025": "25", "action.indicators.0.retirer": "oui"}
    edited |= {"action.indicators.2.code": "familles", "action.indicators.2.label": "Familles suivies"}
    edited |= {"action.indicators.2.baseline": "5"} | {f"action.indicators.2.targets.{y}": "7" for y in YEARS}
    answer = await browser.post(form, edited)
    assert answer.status_code == 303, refusal(answer.text)
    fiche = (await stack.pacte.contract(PREFET, GIRONDE)).actions["G1"]
    assert [(i.code, i.targets.get(2025)) for i in fiche.indicators] == [("places", 25), ("familles", 7)]
    # Opened again, the form shows exactly that, and sent back untouched it changes nothing.
    again = form_values((await browser.get(form)).text)
    assert again["action.indicators.0.code"] == "places" and again["action.indicators.1.label"] == "Familles suivies"
    before = await stack.pacte.store.stream_version(GIRONDE)
    assert (await browser.post(form, again)).status_code == 303
    assert await stack.pacte.store.stream_version(GIRONDE) == before


async def signed(stack: Stack) -> int:
    """Bordeaux's contract signed by both parties in March 2024 (the calendar has run since): its current year."""
    await deliberated(stack)
    state = await stack.pacte.contract(PREFET, BORDEAUX)
    for actor, party, day in ((PREFET, "etat", "2024-03-01"), (COLLECTIVITE, "collectivite", "2024-03-05")):
        if party not in {p.value for p in state.signatures}:  # Party -> signature
            body = {"party": party, "signatory": f"Signataire {party}", "occurred_at": day}
            await stack.pacte.command(actor, "SignContract", {"contract_id": BORDEAUX}, body)
    # The calendar opens the years from 2024 to this one (the workflow's clock is today's): wait for it.
    this_year = min(business_date(datetime.now(UTC)).year, 2027)

    async def caught_up() -> int | None:
        year = (await stack.pacte.contract(PREFET, BORDEAUX)).current_year
        return year if year == this_year else None

    return await eventually(caught_up, what="the calendar opened this year")


async def test_an_avenant_adds_changes_and_removes_fiches_from_the_browser(browser: Browser, stack: Stack) -> None:
    year = await signed(stack)
    await browser.sign_in("prefet")
    later = [str(y) for y in range(year, 2028)]
    # Added: a new fiche, funded from the current year on.
    form = f"/ui/contrats/{BORDEAUX}/actes/avenant-ajouter-une-action"
    added = form_values((await browser.get(form)).text) | {"amendment_id": "AV-AJOUT", "reason": "Nouvelle fiche"}
    fiche = "terms.added_actions.0"
    added |= {f"{fiche}.action_id": "A5", f"{fiche}.axis": "ENFANCE", f"{fiche}.title": "Fiche A5"}
    added |= {f"{fiche}.objective": "Objectif", f"{fiche}.nature": "new", f"{fiche}.public": "jeunes"}
    added |= {f"{fiche}.zone": "Bordeaux", f"{fiche}.indicators.0.code": "jeunes"}
    added |= {f"{fiche}.indicators.0.label": "Jeunes", f"{fiche}.indicators.0.baseline": "0"}
    added |= {f"{fiche}.indicators.0.targets.{y}": "10" for y in later}
    added |= {f"{fiche}.amounts.{y}.{who}": "10 000,00 €" for y in later for who in ("etat", "collectivite")}
    answer = await browser.post(form, added)
    assert answer.status_code == 303, refusal(answer.text)
    avenants = (await stack.pacte.contract(PREFET, BORDEAUX)).avenants
    assert [a.action_id for a in avenants["AV-AJOUT"].terms.added_actions] == ["A5"]

    # Changed: the fiche's form opens prefilled; sent back untouched it proposes nothing.
    form = f"/ui/contrats/{BORDEAUX}/actes/avenant-modifier-une-action?action_id=A1"
    opened = form_values((await browser.get(form)).text) | {"amendment_id": "AV-MODIF", "reason": "Ajustement"}
    assert opened["terms.changed_actions.0.indicators.1.code"] == "places"
    before = await stack.pacte.store.stream_version(BORDEAUX)
    answer = await browser.post(form, opened)
    assert answer.status_code == 303 and await stack.pacte.store.stream_version(BORDEAUX) == before
    assert "Rien n'a changé" in unescape((await browser.get(answer.headers["location"])).text)
    answer = await browser.post(form, opened | {"terms.changed_actions.0.title": "Fiche A1 élargie"})
    assert answer.status_code == 303, refusal(answer.text)
    (changed,) = (await stack.pacte.contract(PREFET, BORDEAUX)).avenants["AV-MODIF"].terms.changed_actions
    assert changed.title == "Fiche A1 élargie" and [i.code for i in changed.indicators] == ["beneficiaires", "places"]

    # Removed: a fiche funded in years that are over cannot be; the refusal says so at the field, in French.
    form = f"/ui/contrats/{BORDEAUX}/actes/avenant-retirer-une-action"
    await browser.get(form)
    removal = {"amendment_id": "AV-RETRAIT", "year": str(year), "terms.removed_actions.0": "A4", "reason": "Fin"}
    answer = await browser.post(form, removal)
    if year > 2024:
        assert answer.status_code == 422
        assert field_error(unescape(answer.text), "terms.removed_actions.0").startswith(
            "La fiche A4 a été financée en 2024"
        )
    else:
        assert answer.status_code == 303, refusal(answer.text)


async def test_an_avenant_to_sign_shows_the_last_day_it_may_be_signed(browser: Browser, stack: Stack) -> None:
    """Found by a user walk: avenant signatures said "sans date limite". The contract's page says until when each
    avenant still to sign may be signed (the decider's own limit: an amendment within its year) and how late it is."""
    year = await signed(stack)
    # Dated now: an earlier test of this module may have recorded a fact today on Bordeaux (run int-web: a date of
    # 30 November came "before the contract's last recorded fact").
    body: dict[str, Any] = {"amendment_id": "AV-DELAI", "year": year, "reason": "délai"}
    body["amounts"] = {"A1": {"etat": 10_100_000, "collectivite": 10_100_000}}
    if "AV-DELAI" not in (await stack.pacte.contract(PREFET, BORDEAUX)).avenants:
        await stack.pacte.command(PREFET, "Amend", {"contract_id": BORDEAUX}, body)
    await browser.sign_in("collectivite")
    page = unescape((await browser.get(f"/ui/contrats/{BORDEAUX}")).text)
    row = re.search(r"<th scope=\"row\">AV-DELAI</th>(.*?)</tr>", page, re.S)
    assert row, page
    cells = " ".join(re.sub(r"<[^>]+>", " ", row.group(1)).split())
    assert f"au plus tard le 31 décembre {year}" in cells, cells
    today = business_date(datetime.now(UTC))
    due = date(year, 12, 31)
    assert (f"dans {(due - today).days} jour" in cells) if today < due else ("aujourd'hui" in cells), cells
    assert "sans date limite" not in page


async def test_what_was_typed_comes_back_after_the_session_expired(browser: Browser, stack: Stack) -> None:
    await gironde_with_a_fiche(stack)
    before = await stack.pacte.store.stream_version(GIRONDE)
    await browser.sign_in("prefet")
    form = f"/ui/contrats/{GIRONDE}/actes/modifier-une-action?action_id=G1"
    typed = form_values((await browser.get(form)).text)
    typed |= {"action.title": "Titre tapé pendant la réunion", "action.amounts.2025.partenaires": "1 234,56 €"}
    # The session ends while the agent types (the database's clock decides, for every process).
    await stack.pacte.store.pool.execute(
        "UPDATE pacte_auth.sessions SET expires_at = now() - interval '1 second' WHERE expires_at > now()"
    )
    answer = await browser.post(form, typed)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/ui/connexion?suivant=")
    back = unquote(answer.headers["location"].removeprefix("/ui/connexion?suivant="))
    assert back.startswith(f"/ui/contrats/{GIRONDE}/actes/modifier-une-action?action_id=G1&brouillon=")
    assert await stack.pacte.store.stream_version(GIRONDE) == before  # nothing recorded

    # Signed in again, the form comes back filled, and says so; still nothing recorded.
    await browser.get(f"/ui/connexion?suivant={quote(back)}")
    signed_in = await browser.post("/ui/connexion", {"identity": "prefet", "next": back})
    assert signed_in.headers["location"] == back
    page = (await browser.get(back)).text
    assert "Votre saisie est revenue" in page
    again = form_values(page)
    assert again["action.title"] == "Titre tapé pendant la réunion"
    assert again["action.amounts.2025.partenaires"] == "1 234,56 €"
    assert {k: v for k, v in again.items() if k != "cle"} == {k: v for k, v in typed.items() if k != "cle"}  # all of it
    assert await stack.pacte.store.stream_version(GIRONDE) == before
    # Sent now, it is recorded as typed.
    assert (await browser.post(form, again)).status_code == 303
    fiche = (await stack.pacte.contract(PREFET, GIRONDE)).actions["G1"]
    assert fiche.title == "Titre tapé pendant la réunion" and fiche.amounts[2025].partenaires == 123_456
    # A draft comes back once, and only to the person who typed it.
    assert "Votre saisie est revenue" not in (await browser.get(back)).text


async def test_a_draft_is_kept_only_for_its_person_and_only_from_our_own_page(browser: Browser, stack: Stack) -> None:
    # Without the session's token (not sent by our page): nothing kept.
    await gironde_with_a_fiche(stack)
    await browser.sign_in("prefet")
    form = f"/ui/contrats/{GIRONDE}/actes/modifier-une-action?action_id=G1"
    typed = form_values((await browser.get(form)).text) | {"action.title": "Brouillon du préfet"}
    await stack.pacte.store.pool.execute(
        "UPDATE pacte_auth.sessions SET expires_at = now() - interval '1 second' WHERE expires_at > now()"
    )
    forged = await browser.http.post(form, data={**typed, "csrf_token": "autre"})
    assert forged.status_code == 303 and "brouillon" not in unquote(forged.headers["location"])
    assert await stack.pacte.store.pool.fetchval("SELECT count(*) FROM pacte_auth.form_drafts") == 0
    # From our page, for the person who typed it.
    await gironde_with_a_fiche(stack)
    await browser.sign_in("prefet")
    form = f"/ui/contrats/{GIRONDE}/actes/modifier-une-action?action_id=G1"
    typed = form_values((await browser.get(form)).text) | {"action.title": "Brouillon du préfet"}
    await stack.pacte.store.pool.execute(
        "UPDATE pacte_auth.sessions SET expires_at = now() - interval '1 second' WHERE expires_at > now()"
    )
    answer = await browser.post(form, typed)
    back = unquote(answer.headers["location"].removeprefix("/ui/connexion?suivant="))
    assert "brouillon=" in back
    # Someone else signing in on this browser does not get it.
    await browser.sign_in("collectivite")
    assert "Brouillon du préfet" not in (await browser.get(back)).text


async def test_a_signed_out_browser_holding_a_cookie_and_its_token_stores_no_draft(stack: Stack) -> None:
    """As an attacker would try it: a copy of the cookie (and the page's CSRF token) taken before the person signed
    out, or of a session the server no longer knows, posted to a form once the session is over. Only a session that
    really existed server-side, for that person, and expired (not ended) may keep a draft; this stores nothing."""
    await gironde_with_a_fiche(stack)
    form = f"/ui/contrats/{GIRONDE}/actes/modifier-une-action?action_id=G1"
    drafts = "SELECT count(*) FROM pacte_auth.form_drafts"
    transport = httpx.ASGITransport(app=stack.app)
    for how in ("signed out", "signed out, then past its expiry", "unknown to the server"):
        async with httpx.AsyncClient(transport=transport, base_url="http://pacte") as http:
            person = Browser(http)
            await person.sign_in("prefet")
            typed = form_values((await person.get(form)).text) | {"action.title": "Saisie de l'attaquant"}
            stolen, token = dict(http.cookies), person.csrf
            if how.startswith("signed out"):
                assert (await person.post("/ui/deconnexion", {})).status_code == 303
            if how == "signed out, then past its expiry":
                await stack.pacte.store.pool.execute(
                    "UPDATE pacte_auth.sessions SET expires_at = now() - interval '1 second' WHERE expires_at > now()"
                )
            if how == "unknown to the server":
                await stack.pacte.store.pool.execute("DELETE FROM pacte_auth.sessions")
        before = await stack.pacte.store.pool.fetchval(drafts)
        async with httpx.AsyncClient(transport=transport, base_url="http://pacte", cookies=stolen) as attacker:
            answer = await attacker.post(form, data={**typed, "csrf_token": token})
        assert answer.status_code == 303 and "brouillon" not in unquote(answer.headers["location"]), how
        assert await stack.pacte.store.pool.fetchval(drafts) == before, how  # nothing stored


async def test_in_chromium_a_form_typed_across_the_end_of_a_session_comes_back(
    chromium: Chromium, stack: Stack
) -> None:
    await gironde_with_a_fiche(stack)
    async with serving(stack.app, free_port()) as base:
        context = await chromium.new_context(locale="fr-FR")
        page = await context.new_page()
        await page.goto(f"{base}/ui/connexion")
        await page.click("#connexion-prefet")
        await expect(page.locator("h1")).to_have_text("À traiter")  # where each person lands
        await page.goto(f"{base}/ui/contrats/{GIRONDE}/actes/modifier-une-action?action_id=G1")
        await page.locator("[name='action.title']").fill("Tapé avant la fin de la session")
        await page.locator("[name='action.zone']").fill("Rive droite")
        before = await stack.pacte.store.stream_version(GIRONDE)
        await stack.pacte.store.pool.execute(
            "UPDATE pacte_auth.sessions SET expires_at = now() - interval '1 second' WHERE expires_at > now()"
        )
        await page.get_by_role("button", name="Enregistrer").click()
        await expect(page.locator("h1")).to_have_text("Se connecter")
        await page.click("#connexion-prefet")
        await expect(page.locator("h1")).to_have_text("Modifier une fiche action")
        await expect(page.get_by_text("Votre saisie est revenue")).to_be_visible()
        await expect(page.locator("[name='action.title']")).to_have_value("Tapé avant la fin de la session")
        await expect(page.locator("[name='action.zone']")).to_have_value("Rive droite")
        assert await stack.pacte.store.stream_version(GIRONDE) == before  # nothing recorded until sent
        await page.get_by_role("button", name="Enregistrer").click()
        await expect(page.get_by_text("Modifier une fiche action : enregistré")).to_be_visible()
        fiche = (await stack.pacte.contract(PREFET, GIRONDE)).actions["G1"]
        assert (fiche.title, fiche.zone) == ("Tapé avant la fin de la session", "Rive droite")
        await context.close()


async def test_the_fiche_to_edit_not_chosen_is_said_at_its_select(browser: Browser, stack: Stack) -> None:
    await gironde_with_a_fiche(stack)
    await browser.sign_in("prefet")
    form = f"/ui/contrats/{GIRONDE}/actes/modifier-une-action"
    await browser.get(form)
    page = await browser.post(form, {"action.title": "Sans fiche choisie"})
    assert page.status_code == 422
    assert field_error(unescape(page.text), "action_id") == "Ce champ est obligatoire."
    assert 'aria-describedby="champ-action_id-erreur"' in page.text


async def test_the_edit_button_asks_which_fiche_first_then_opens_it_filled(browser: Browser, stack: Stack) -> None:
    """Found by a user walk: *Modifier une fiche action* (the contract page's button, no fiche named) opened an empty
    form that refused every field. Now the fiche is chosen first, and its form opens filled."""
    await gironde_with_a_fiche(stack)
    await browser.sign_in("prefet")
    form = f"/ui/contrats/{GIRONDE}/actes/modifier-une-action"
    chooser = unescape((await browser.get(form)).text)
    assert '<form method="get"' in chooser and 'name="action.title"' not in chooser
    assert 'name="action_id"' in chooser and "Ouvrir la fiche" in chooser
    opened = unescape((await browser.get(f"{form}?action_id=G1")).text)
    assert 'name="action.title"' in opened and 'value="' in opened.split('name="action.title"')[1][:200]


async def test_a_new_fiche_is_entered_with_two_indicators_at_once(browser: Browser, stack: Stack) -> None:
    """Found by a user walk: the new fiche's form had one indicator row, so a second took a second recorded fact."""
    await gironde_with_a_fiche(stack)
    await browser.sign_in("prefet")
    page = unescape((await browser.get(f"/ui/contrats/{GIRONDE}/actes/ajouter-une-action")).text)
    assert 'name="action.indicators.0.code"' in page and 'name="action.indicators.1.code"' in page


async def test_an_amendment_is_withdrawn_by_its_proposer_from_the_browser(browser: Browser, stack: Stack) -> None:
    """Issue 24, defect 7: the préfet's pending amendment is offered for withdrawal, shown with what it would have
    changed, confirmed, then withdrawn; the collectivité, which did not propose it, is refused in French."""
    year = await signed(stack)
    state = await stack.pacte.contract(PREFET, BORDEAUX)
    a1 = state.actions["A1"].amounts[year]
    less = {"etat": a1.etat - 100_000, "collectivite": a1.collectivite - 100_000}
    body = {"amendment_id": "AV-RETIRE", "year": year, "amounts": {"A1": less}, "reason": "Ajustement"}
    await stack.pacte.command(PREFET, "Amend", {"contract_id": BORDEAUX}, body)
    form = f"/ui/contrats/{BORDEAUX}/actes/retrait-avenant?avenant_id=AV-RETIRE"

    await browser.sign_in("collectivite")
    await browser.get(form)
    page = await browser.post(form, {"avenant_id": "AV-RETIRE", "reason": "Non"})
    assert page.status_code == 422 and "Je confirme" not in page.text
    assert "seul celui qui l'a proposé le retire ou le remplace" in unescape(page.text), refusal(page.text)

    await browser.sign_in("prefet")
    contract_page = unescape((await browser.get(f"/ui/contrats/{BORDEAUX}")).text)
    assert "Retirer une proposition d'avenant" in contract_page
    opened = unescape((await browser.get(form)).text)
    assert "AV-RETIRE" in opened
    confirming = await browser.post(form, {"avenant_id": "AV-RETIRE", "reason": "Montants à revoir"})
    assert "Je confirme" in confirming.text, refusal(confirming.text)
    done = await browser.post(form, {"avenant_id": "AV-RETIRE", "reason": "Montants à revoir", "confirme": "oui"})
    assert done.status_code == 303, refusal(done.text)
    after = await stack.pacte.contract(PREFET, BORDEAUX)
    assert "AV-RETIRE" not in after.avenants and "AV-RETIRE" in after.withdrawn_avenants
    history = unescape((await browser.get(f"/ui/contrats/{BORDEAUX}/historique")).text)
    assert "Proposition d'avenant retirée" in history


async def test_an_amendment_replaces_its_proposers_pending_one_from_the_browser(browser: Browser, stack: Stack) -> None:
    """The amendment form offers the préfet's pending amendments to replace: the new one is proposed, the old one
    withdrawn (issue 24, defect 7)."""
    year = await signed(stack)
    a1 = (await stack.pacte.contract(PREFET, BORDEAUX)).actions["A1"].amounts[year]
    body = {"amendment_id": "AV-ANCIEN", "year": year, "reason": "Premier jet"}
    body["amounts"] = {"A1": {"etat": a1.etat - 200_000, "collectivite": a1.collectivite - 200_000}}
    await stack.pacte.command(PREFET, "Amend", {"contract_id": BORDEAUX}, body)
    await browser.sign_in("prefet")
    form = f"/ui/contrats/{BORDEAUX}/actes/avenant"
    opened = unescape((await browser.get(form)).text)
    assert "Remplace la proposition" in opened and '<option value="AV-ANCIEN"' in opened
    sent = {"amendment_id": "AV-NOUVEAU", "year": str(year), "replaces": "AV-ANCIEN", "reason": "Second jet"}
    sent |= {"amounts.A1.etat": euros(a1.etat - 300_000), "amounts.A1.collectivite": euros(a1.collectivite - 300_000)}
    answer = await browser.post(form, sent)
    assert answer.status_code == 303, refusal(answer.text)
    after = await stack.pacte.contract(PREFET, BORDEAUX)
    assert "AV-NOUVEAU" in after.avenants and "AV-ANCIEN" not in after.avenants
    assert "AV-ANCIEN" in after.withdrawn_avenants


async def test_every_refusal_of_the_contract_is_shown_at_once_at_its_field_and_listed_by_the_api(
    browser: Browser, stack: Stack
) -> None:
    """Found by a user walk: the contract's refusals came one at a time (two years off the 50/50 rule and a date
    before the last fact: only the date was said). The form shows each at its field; the API answers its first
    refusal where it always did (code, message, field) and lists them all in ``errors``."""
    await gironde_with_a_fiche(stack)
    before = await stack.pacte.store.stream_version(GIRONDE)
    await browser.sign_in("prefet")
    form = f"/ui/contrats/{GIRONDE}/actes/ajouter-une-action"
    await browser.get(form)
    values = {
        "action.action_id": "G7",
        "action.axis": "ENFANCE",
        "action.title": "Fiche G7",
        "action.objective": "Objectif",
        "action.nature": "new",
        "action.public": "familles",
        "action.zone": "Gironde",
        "action.indicators.0.code": "familles",
        "action.indicators.0.label": "Familles",
        "action.indicators.0.baseline": "10",
        "occurred_at": "05/01/2024",  # before the fiche G1 (10 January 2024)
    }
    for year in YEARS:
        values[f"action.indicators.0.targets.{year}"] = "12"
        values[f"action.amounts.{year}.etat"] = "1 000,00 €"
        values[f"action.amounts.{year}.collectivite"] = "999,00 €" if year in ("2024", "2026") else "1 000,00 €"
    page = await browser.post(form, values)
    assert page.status_code == 422
    text = unescape(page.text)
    assert "3 points à corriger" in text, refusal(text)
    assert field_error(text, "occurred_at").startswith("Le 5 janvier 2024 est avant le dernier fait enregistré")
    amounts = re.search(
        r'id="groupe-action-amounts-erreur"[^>]*><p class="fr-message fr-message--error">([^<]*)<', text
    )
    assert amounts, refusal(text)
    assert "Fiche G7, 2024" in amounts.group(1) and "Fiche G7, 2026" in amounts.group(1), amounts.group(1)
    assert_summary_names_each_field(text)

    # The API: the same refusals, the first where it always was.
    await browser.get("/ui/jetons")
    created = await browser.post("/ui/jetons", {"days": "1"})
    token = re.search(r'<code id="jeton">([^<]+)</code>', created.text).group(1)  # type: ignore[union-attr]
    fiche = action_body(
        "G7",
        amounts={y: {"etat": 100_000, "collectivite": 99_900 if y in ("2024", "2026") else 100_000} for y in YEARS},
    )
    answer = await browser.http.post(
        f"/contracts/{GIRONDE}/actions",
        json={"action": fiche, "occurred_at": "2024-01-05"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert (problem["code"], problem["field"]) == ("date_out_of_programme", "occurred_at")
    assert [(e["rule"], e["field"], e["params"].get("year")) for e in problem["errors"]] == [
        ("date.before_last_fact", "occurred_at", None),
        ("money.co_financing", "action.amounts", 2024),
        ("money.co_financing", "action.amounts", 2026),
    ]
    assert problem["errors"][0]["message"] == problem["message"]
    # A body its schema refuses: every problem listed too, the first where it always was.
    unreadable = await browser.http.post(
        f"/contracts/{GIRONDE}/actions",
        json={"action": {**fiche, "title": "", "zone": None}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert unreadable.status_code == 422, unreadable.text
    problem = unreadable.json()
    assert [e["field"] for e in problem["errors"]] == ["action.title", "action.zone"]
    assert (problem["field"], problem["message"]) == (problem["errors"][0]["field"], problem["errors"][0]["message"])
    assert await stack.pacte.store.stream_version(GIRONDE) == before


async def test_a_form_sent_in_place_by_htmx_gets_its_refusal_to_swap_and_its_success_as_a_navigation(
    browser: Browser, stack: Stack
) -> None:
    """htmx swaps no 4xx, and Chromium logs a 4xx as a console error (a user walk found every refused form so): to
    htmx a refusal answers 200 with its French page (its status said in X-Pacte-Status), and a recorded act navigates
    the whole page (HX-Redirect, the session's cookie and its message kept). To anyone else, nothing changes."""
    await gironde_with_a_fiche(stack)
    await browser.sign_in("prefet")
    form = f"/ui/contrats/{GIRONDE}/actes/modifier-une-action?action_id=G1"
    values = form_values(unescape((await browser.get(form)).text))
    htmx = {"HX-Request": "true"}
    refused = await browser.http.post(
        form, data={**values, "action.title": "", "csrf_token": browser.csrf}, headers=htmx
    )
    assert refused.status_code == 200 and refused.headers["X-Pacte-Status"] == "422"
    assert field_error(unescape(refused.text), "action.title") == "Ce champ est obligatoire."
    plain = await browser.post(form, {**values, "action.title": ""})
    assert plain.status_code == 422 and "X-Pacte-Status" not in plain.headers
    recorded = await browser.http.post(
        form, data={**values, "action.title": "Titre changé en place", "csrf_token": browser.csrf}, headers=htmx
    )
    assert recorded.status_code == 200 and recorded.headers["HX-Redirect"] == f"/ui/contrats/{GIRONDE}"
    assert "location" not in recorded.headers and "set-cookie" in recorded.headers  # the flash rides in the session
    shown = await browser.get(recorded.headers["HX-Redirect"])
    assert "Modifier une fiche action : enregistré" in unescape(shown.text)
    assert (await stack.pacte.contract(PREFET, GIRONDE)).actions["G1"].title == "Titre changé en place"
