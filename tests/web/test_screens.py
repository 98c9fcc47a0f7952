"""Every role's daily pages, in Chromium, at a desktop's 1280×900 and a phone's 390×844 (issue 22): a page fails on
any console error (the DSFR's script throwing included), any failed request (a vendored icon missing included), any
page wider than the screen, and at desktop size on any serious or critical axe violation. On the phone the DSFR's
menu opens and holds the person, the sign-out and the menu; the display settings switch to the dark theme; the
breadcrumb unfolds; wide tables scroll inside a focusable region.

The contract walked is Bordeaux Métropole taken over with its real history (proposed in December 2023, signed in
March 2024, one committee in 2024, then nothing): deadlines missed, others to come, and acts waiting for each role.
It runs on a service of its own (database, Temporal), so the other web tests' contracts never meet it."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, Request, Response, expect

from domain.business_time import PARIS
from domain.policy import in_code
from domain.values import Party
from pacte.reprise_file import dump_lines
from pacte.service.facade import may_do
from pacte.tokens import DEMO
from pacte.web.formats import MONTHS, euros
from pacte.web.forms import FORMS, SLUGS
from pacte.web.signin import demo_identities
from tests.unit.builders import BORDEAUX, BORDEAUX_ACTIONS
from tests.web.conftest import Browser as Person
from tests.web.conftest import Stack, free_port, fresh_stack, serving

pytestmark = pytest.mark.integration

CONTRACT = f"cls-{BORDEAUX}"
PAGE = f"/ui/contrats/{CONTRACT}"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SIZES = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]


def bordeaux_history() -> str:
    """Bordeaux Métropole's history as the préfecture types it from its files (reprise de l'existant)."""
    prefet, collectivite = DEMO["prefet"], DEMO["collectivite"]
    source = "convention CLS Bordeaux Métropole"
    lines: list[dict[str, Any]] = [
        {
            "type": "ProposeContract",
            "occurred_at": "2023-12-01",
            "actor": prefet.model_dump(mode="json"),
            "source": source,
            "territory_id": BORDEAUX,
            "annual_ceiling": 150_000_000,
            "draft_actions": [a.model_dump(mode="json") for a in BORDEAUX_ACTIONS],
        },
        {
            "type": "RecordDeliberation",
            "occurred_at": "2024-02-15",
            "actor": collectivite.model_dump(mode="json"),
            "source": "délibération 2024-12",
            "deliberation": {"body": "assemblee", "voted_on": "2024-02-14", "reference": "DEL-2024-12"},
        },
        {
            "type": "SignContract",
            "occurred_at": "2024-03-28",
            "actor": prefet.model_dump(mode="json"),
            "source": source,
            "party": "etat",
            "signatory": "Préfet de la Gironde",
        },
        {
            "type": "SignContract",
            "occurred_at": "2024-03-28",
            "actor": collectivite.model_dump(mode="json"),
            "source": source,
            "party": "collectivite",
            "signatory": "Président de Bordeaux Métropole",
        },
        {
            "type": "RecordCommitteeReview",
            "occurred_at": "2024-11-20",
            "actor": DEMO["commissaire"].model_dump(mode="json"),
            "source": "compte rendu du comité 2024",
            "year": 2024,
            "review_date": "2024-11-18",
            "findings": "Actions lancées",
            "decision": "CONTINUE",
        },
    ]
    return dump_lines([{"contract_id": CONTRACT, **line} for line in lines])


@pytest.fixture(scope="module")
async def bordeaux(postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with fresh_stack(postgres_server_url, tmp_path_factory.mktemp("screens")) as stack:
        report = await stack.pacte.import_file(DEMO["prefet"], bordeaux_history())
        assert report.imported == 1, report
        yield stack


@pytest.fixture(scope="module")
async def site(bordeaux: Stack) -> AsyncIterator[str]:
    async with serving(bordeaux.app, free_port()) as base:
        yield base


@dataclass
class Screen:
    """One person's tab at one size. Every page it reaches is checked; problems are collected as they happen (the
    DSFR's script runs after the page loads, icons load when shown) and asserted at each check."""

    page: Page
    base: str
    size: dict[str, int]
    shots: Path
    axe: Axe = field(default_factory=Axe)
    problems: list[str] = field(default_factory=list)
    count: int = 0

    def __post_init__(self) -> None:
        self.page.on(
            "console", lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"script error: {e}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", self._answered)

    def _failed(self, request: Request) -> None:
        # The browser cancels what a page still loads when it is left (a click that navigates while the fonts load:
        # seen in CI as Marianne-Bold.woff2 net::ERR_ABORTED), and a download ends its request so by design. Neither is
        # the service failing: a missing or refused file answers >= 400 (below), a dropped connection fails otherwise.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _answered(self, response: Response) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    @property
    def desktop(self) -> bool:
        return self.size["width"] >= 1000

    async def check(self, name: str) -> None:
        """No console error, no failed request, nothing wider than the screen, and (desktop) no serious axe finding."""
        await self.page.wait_for_load_state("networkidle")  # the icons and fonts the page shows, the DSFR's script
        self.count += 1
        await self.page.screenshot(path=str(self.shots / f"{self.size['width']}-{self.count:02d}-{name}.png"))
        wider = await self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert wider <= 0, f"{name}: the page is {wider} px wider than the {self.size['width']} px screen"
        if self.desktop:
            results = await self.axe.run(self.page)
            serious = [
                f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
                for v in results.response["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            assert not serious, f"{name}: {serious}"
        assert not self.problems, f"{name}: {self.problems}"

    async def visit(self, path: str, name: str) -> None:
        await self.page.goto(self.base + path)
        await self.check(name)

    async def sign_in(self, role: str) -> None:
        await self.page.goto(self.base + "/ui/connexion")
        await self.page.click(f"#connexion-{role}")
        await expect(self.page.locator("h1")).not_to_have_text("Se connecter")
        await self.check(f"accueil-{role}")

    async def sign_out(self) -> None:
        await self.open_menu()
        await self.page.get_by_role("button", name="Se déconnecter").locator("visible=true").click()
        await expect(self.page.locator("h1")).to_have_text("Se connecter")

    async def open_menu(self) -> None:
        """On a phone the header's tools and the navigation are in the DSFR's menu, behind its button."""
        if not self.desktop:
            await self.page.get_by_role("button", name="Menu", exact=True).click()
            await expect(self.page.locator("#menu-principal")).to_be_visible()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screens-shots")


@pytest.fixture(params=SIZES)
async def screen(request: pytest.FixtureRequest, chromium: Browser, site: str, shots: Path) -> AsyncIterator[Screen]:
    size: dict[str, int] = request.param
    context = await chromium.new_context(locale="fr-FR", viewport=size, accept_downloads=True)  # type: ignore[arg-type]
    yield Screen(await context.new_page(), site, size, shots)
    await context.close()


async def test_the_dsfr_works_on_every_page_at_every_size(screen: Screen) -> None:
    page = screen.page
    for role, pages in {
        "prefet": [PAGE, PAGE + "/historique", "/ui/tableau-de-bord", "/ui/jetons", "/ui/contrats/proposer"],
        "collectivite": [PAGE, PAGE + "/actes/rapport-execution"],
        "commissaire": [PAGE, PAGE + "/actes/comite-de-suivi"],
        "auditor": [PAGE + "/historique", "/ui/audit", "/ui/tableau-de-bord"],
    }.items():
        await screen.sign_in(role)
        # The person, the sign-out and the navigation are within reach at every size.
        await screen.open_menu()
        menu = page.locator("#menu-principal") if not screen.desktop else page.locator("header")
        await expect(
            menu.get_by_text(
                "("
                + {
                    "prefet": "Préfet",
                    "collectivite": "Collectivité",
                    "commissaire": "Commissaire",
                    "auditor": "Auditeur",
                }[role]
            )
            .locator("visible=true")
            .first
        ).to_be_visible()
        await expect(menu.get_by_role("button", name="Se déconnecter").locator("visible=true")).to_be_visible()
        await expect(menu.get_by_role("link", name="Contrats", exact=True).locator("visible=true")).to_be_visible()
        if not screen.desktop:
            await page.locator("#menu-principal").get_by_role("button", name="Fermer").click()
            await expect(page.locator("#menu-principal")).to_be_hidden()
        for n, path in enumerate(pages):
            await screen.visit(path, f"{role}-{n}")
        await screen.sign_out()

    # The contract page: its breadcrumb unfolds on a phone; every table scrolls inside a focusable, named region.
    await screen.sign_in("auditor")
    await screen.visit(PAGE, "contrat")
    if not screen.desktop:
        await page.get_by_role("button", name="Voir le fil d'Ariane").click()
        await expect(page.locator(".fr-breadcrumb__list")).to_be_visible()
    regions = page.locator(".fr-table__container")
    assert await regions.count() >= 4
    for i in range(await regions.count()):
        region = regions.nth(i)
        assert await region.get_attribute("tabindex") == "0"
        assert await region.get_attribute("role") == "region"
        assert await region.get_attribute("aria-label")
    assert await page.locator(".fr-table > table").count() == 0  # no table left in the old, unfocusable markup

    # The display settings switch to the dark theme and back, and it holds on the next page.
    await screen.open_menu()
    await page.get_by_role("button", name="Paramètres d'affichage").locator("visible=true").first.click()
    await expect(page.locator("#fr-theme-modal")).to_be_visible()
    await page.locator("label[for='fr-radios-theme-dark']").click()
    await expect(page.locator("html")).to_have_attribute("data-fr-theme", "dark")
    await page.locator("#fr-theme-modal").get_by_role("button", name="Fermer").click()
    await screen.visit("/ui/accessibilite", "accessibilite-sombre")
    await expect(page.locator("html")).to_have_attribute("data-fr-theme", "dark")

    # The footer carries the DSFR's mandatory links, and each page of Pacte's own answers.
    footer = page.locator("footer")
    for name in ("info.gouv.fr", "service-public.gouv.fr", "legifrance.gouv.fr", "data.gouv.fr"):
        await expect(footer.get_by_role("link", name=name)).to_have_count(1)
    for name, path in (
        ("Accessibilité : partiellement conforme", "/ui/accessibilite"),
        ("Mentions légales", "/ui/mentions-legales"),
        ("Données personnelles", "/ui/donnees-personnelles"),
    ):
        assert await footer.get_by_role("link", name=name).get_attribute("href") == path
        await screen.visit(path, path.rsplit("/", 1)[1])


async def test_a_refused_form_says_why_at_each_field_with_no_console_error(screen: Screen, bordeaux: Stack) -> None:
    """Found by a user walk: a refused form logged a console error in Chromium (the 422 of the page it loaded). A
    refused form comes back in place, in French, every problem at its field, and the page stays clean (no console
    error, no failed request, no answer >= 400: ``Screen.check``)."""
    page = screen.page
    before = await bordeaux.pacte.store.stream_version(CONTRACT)
    state = await bordeaux.pacte.contract(DEMO["auditor"], CONTRACT)
    await screen.sign_in("prefet")
    await screen.visit(PAGE + "/actes/avenant", "avenant-a-refuser")
    await page.fill("[name=amendment_id]", "AV-REFUS")
    await page.select_option("[name=year]", str(state.current_year))
    for action_id, etat, collectivite in (("A1", "1 000,00 €", "999,00 €"), ("A2", "500,00 €", "400,00 €")):
        await page.fill(f"[name='amounts.{action_id}.etat']", etat)
        await page.fill(f"[name='amounts.{action_id}.collectivite']", collectivite)
    await page.fill("[name=reason]", "Essai")
    await page.fill("[name=occurred_at]", "01/06/2024")  # before the committee of November 2024
    await page.get_by_role("button", name="Enregistrer").click()
    summary = page.locator("#refus")
    await expect(summary).to_contain_text("3 points à corriger")
    await expect(summary).to_be_focused()
    await expect(page.locator("#champ-occurred_at-erreur")).to_contain_text("avant le dernier fait enregistré")
    await expect(page.locator("#groupe-amounts-A1-erreur")).to_contain_text("Fiche A1")
    await expect(page.locator("#groupe-amounts-A2-erreur")).to_contain_text("Fiche A2")
    await expect(page.locator("[name='amounts.A2.collectivite']")).to_have_value("400,00 €")  # what was typed stays
    await screen.check("avenant-refuse")
    # Corrected in place, it is then taken (here: the date alone left wrong, still refused, still clean).
    await page.fill("[name='amounts.A1.collectivite']", "1 000,00 €")
    await page.fill("[name='amounts.A2.collectivite']", "500,00 €")
    await page.get_by_role("button", name="Enregistrer").click()
    await expect(summary).not_to_contain_text("points à corriger")
    await expect(summary).to_contain_text("Date du fait")
    await screen.check("avenant-refuse-date")
    # The proposal's own form, refused the same way.
    await screen.visit("/ui/contrats/proposer", "proposer-a-refuser")
    await page.fill("[name=annual_ceiling]", "beaucoup")
    await page.get_by_role("button", name="Proposer").click()
    await expect(page.locator("#refus")).to_contain_text("Territoire : Ce champ est obligatoire.")
    await expect(page.locator("#champ-annual_ceiling-erreur")).to_contain_text("« beaucoup » n'est pas un montant")
    await screen.check("proposer-refuse")
    await screen.sign_out()
    assert await bordeaux.pacte.store.stream_version(CONTRACT) == before  # nothing recorded


class Tables(HTMLParser):
    """The text of every table's cells, by caption: what a person reads in each row."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._caption: list[str] | None = None
        self._rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._rows = []
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self._caption is not None:
            self._name = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self.tables[self._name] = [row for row in self._rows[1:] if row]  # without the header row

    def handle_data(self, data: str) -> None:
        for part in (self._caption, self._cell):
            if part is not None:
                part.append(data)


@pytest.fixture
async def person(bordeaux: Stack) -> AsyncIterator[Person]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bordeaux.app), base_url="http://pacte") as http:
        yield Person(http)


async def test_each_deadline_once_missed_or_to_come_with_the_territorys_name(person: Person) -> None:
    await person.sign_in("prefet")
    page = await person.get(PAGE)
    rows = Tables(page.text).tables["Échéances à venir et manquées"]
    keys = [(kind, year) for kind, year, *_ in rows]
    assert len(keys) == len(set(keys)), rows  # each deadline once
    today = datetime.now(PARIS).date()
    for kind, year, due, standing in rows:
        assert ("manquée" in standing) != ("à venir" in standing), (kind, year, standing)
        if parse_french_day(due) < today:
            assert "à venir" not in standing, (kind, year, due, standing)  # a past date is never to come
    assert ["Rapport d'exécution", "2024", "31 mars 2025"] in [r[:3] for r in rows]
    report = next(r for r in rows if r[:2] == ["Rapport d'exécution", "2024"])
    assert "manquée" in report[3] and "jours de retard" in report[3]

    # The dashboard reads the same deadlines, each contract by its territory's name.
    dashboard = Tables((await person.get("/ui/tableau-de-bord")).text).tables["Échéances manquées et du mois"]
    assert dashboard and all(row[0] == "Bordeaux Métropole" for row in dashboard), dashboard
    missed_on_dashboard = {(r[1], r[2]) for r in dashboard if "manquée" in r[4]}
    assert missed_on_dashboard == {(r[0], r[1]) for r in rows if "manquée" in r[3]}


def parse_french_day(text: str) -> date:
    day, month, year = text.replace("1er", "1").split()
    return date(int(year), MONTHS.index(month) + 1, int(day))


async def test_the_history_says_when_the_committee_met_and_the_assembly_voted(person: Person) -> None:
    """Found by a user walk: the history showed a committee review at the day it was typed (its date métier) while
    the contract page showed the day it met. Each row keeps its business date and says the day the fact names."""
    await person.sign_in("auditor")
    page = html.unescape((await person.get(f"{PAGE}/historique")).text)
    assert "comité 2024 tenu le 18 novembre 2024" in page and "20 novembre 2024" in page
    assert "votée le 14 février 2024" in page


async def test_each_person_lands_on_the_acts_waiting_for_them(person: Person) -> None:
    # Taken over with one committee (2024) and nothing since, Bordeaux waits, in the current year Y, for: a committee
    # for each year from 2025 to Y and the mid-term evaluation (the commissaire), an execution report for each year
    # ended (the collectivité), the renewal for Y + 1 while the programme lasts and, Y's renewal missed, an avenant of
    # Y (the préfet); nothing for an auditor.
    now = datetime.now(PARIS).date().year
    expected = {
        "collectivite": {("Déposer le rapport d'exécution", str(y)) for y in range(2024, now)},
        "commissaire": {("Enregistrer un comité de suivi", str(y)) for y in range(2025, now + 1)}
        | {("Évaluation à mi-parcours", "—")},
        "prefet": ({("Avenant de renouvellement", str(now + 1))} if now < 2027 else set())
        | ({("Proposer un avenant", str(now))} if 2024 < now <= 2027 else set()),
        "auditor": set(),
    }
    today = datetime.now(PARIS).date()
    for role, acts in expected.items():
        await person.get("/ui/connexion")
        landed = await person.post("/ui/connexion", {"identity": role, "next": ""})
        assert landed.headers["location"] == ("/ui/tableau-de-bord" if role == "auditor" else "/ui/a-traiter")
        page = await person.get("/ui/a-traiter")
        rows = Tables(page.text).tables.get("Actes qui vous attendent, les plus en retard d'abord", [])
        assert {(r[0], r[2]) for r in rows} == acts, (role, rows)
        assert all(r[1] == "Bordeaux Métropole" for r in rows)
        for title, _, _, due, lateness in rows:
            assert ("en retard" in lateness) == (parse_french_day(due) < today), (role, title, due, lateness)
        # One click from its form: each link opens the act's own form.
        links = re.findall(r'<th scope="row"><a class="fr-link" href="([^"]+)">([^<]+)</a>', page.text)
        assert len(links) == len(rows)
        for (href, title), row in zip(links, rows, strict=True):
            form = await person.get(html.unescape(href))
            assert form.status_code == 200 and f"<h1>{html.unescape(title)}" in html.unescape(form.text), href
            if row[2] != "—":  # it opens on the act's own year (a user walk found every committee opened on one year)
                assert re.search(rf'<option value="{row[2]}"\s+selected', form.text), (href, row)
        if not acts:
            assert "Aucun acte ne vous attend" in page.text
        if role == "prefet" and now < 2027:  # the renewal waits for the year's committee, and says so
            renewal = next(r for r in rows if r[0] == "Avenant de renouvellement")
            assert f"possible après le comité de suivi {now}" in renewal[4]
        if role == "prefet" and 2024 < now <= 2027:  # the missed renewal: its date, its lateness, and what it was
            missed = next(r for r in rows if r[0] == "Proposer un avenant")
            assert missed[3] == f"31 décembre {now - 1}" and "en retard" in missed[4]
            assert f"renouvellement {now} manqué" in missed[4]


async def test_a_renewal_is_shown_as_what_it_changes_then_signed(
    chromium: Browser, site: str, shots: Path, bordeaux: Stack
) -> None:
    """Each role's daily acts around a renewal, each person at their own screen size: the commissaire records the
    year's committee (desktop), the préfet opens the renewal pre-filled with that year's amounts and raises one fiche
    (desktop),
    the collectivité finds the avenant in *À traiter* and signs it seeing what it changes (phone), and so does the
    préfet (phone). Every page checked as above."""
    screens: list[Screen] = []

    async def open_screen(size: dict[str, int]) -> Screen:
        context = await chromium.new_context(locale="fr-FR", viewport=size)  # type: ignore[arg-type]
        screens.append(Screen(await context.new_page(), site, size, shots))
        return screens[-1]

    try:
        desk, phone = await open_screen(DESKTOP), await open_screen(PHONE)
        today = datetime.now(PARIS).date()
        # The renewal the contract still allows, whatever today is: next year's, and from 2027 on the programme's last
        # (2027's, agreed in 2026) — its facts then dated in the year before it, as a préfecture types them late.
        state = await bordeaux.pacte.contract(DEMO["auditor"], CONTRACT)
        assert state.current_year is not None
        renewed = min(state.current_year + 1, in_code().last_year)
        year = renewed - 1  # the year whose committee comes first, and in which the renewal is agreed
        on = min(today, date(year, 12, 1))  # the date of every fact of this walk
        typed_on = on.strftime("%d/%m/%Y")
        due_now = today.year == year  # À traiter offers the renewal while it is due (in the year before it)
        await desk.sign_in("commissaire")
        await desk.page.locator(f"a[href*='comite-de-suivi'][href*='year={year}']").click()  # from À traiter
        await desk.check("comite-depuis-a-traiter")
        await expect(desk.page.locator("[name=year]")).to_have_value(str(year))
        await desk.page.fill("[name=review_date]", typed_on)
        await desk.page.fill("[name=occurred_at]", typed_on)
        await desk.page.fill("[name=findings]", "Actions poursuivies")
        await desk.page.select_option("[name=decision]", "CONTINUE")
        await desk.page.get_by_role("button", name="Enregistrer").click()
        await expect(desk.page.locator(".fr-alert--success")).to_contain_text("enregistré")
        await desk.sign_out()

        # The renewal opens with next year chosen and this year's amounts: the préfet changes only A1.
        await desk.sign_in("prefet")
        if due_now:
            await desk.page.get_by_role("link", name="Avenant de renouvellement").click()  # from À traiter
        else:  # its year begun, À traiter no longer offers it (test_each_person_lands_on_the_acts_waiting_for_them)
            await desk.page.goto(f"{site}{PAGE}/actes/renouvellement?year={renewed}")
        await desk.check("renouvellement-prerempli")
        await expect(desk.page.locator("[name=year]")).to_have_value(str(renewed))
        for action_id, euros in (("A1", "400"), ("A2", "300"), ("A3", "500"), ("A4", "200")):
            for who in ("etat", "collectivite"):
                field = desk.page.locator(f"[name='amounts.{action_id}.{who}']")
                await expect(field).to_have_value(f"{euros}\u202f000,00\u00a0€")
        for who in ("etat", "collectivite"):
            await desk.page.fill(f"[name='amounts.A1.{who}']", "450 000,00 €")
        await desk.page.fill("[name=occurred_at]", typed_on)
        await desk.page.get_by_role("button", name="Enregistrer").click()
        await expect(desk.page.locator(".fr-alert--success")).to_contain_text("enregistré")
        # The contract page shows it as what it changes.
        changes = desk.page.locator(f"#avenant-renewal-{renewed}").locator("..")
        await expect(changes).to_contain_text("Plafond annuel : inchangé (1\u202f500\u202f000,00\u00a0€)")
        row = changes.locator("tr", has_text="A1 — ")
        await expect(row).to_contain_text("400\u202f000,00\u00a0€")
        await expect(row).to_contain_text("450\u202f000,00\u00a0€")
        await expect(row).to_contain_text("+50\u202f000,00\u00a0€")
        await expect(changes.locator("tr", has_text="A2 — ")).to_have_count(0)  # unchanged money is not a change
        await expect(changes).to_contain_text("50\u202f000,00\u00a0€")  # the ceiling left in the renewed year
        await desk.check("contrat-renouvellement-propose")
        await desk.sign_out()

        # On a phone, each party finds the avenant in À traiter, sees what it signs, confirms.
        for role in ("collectivite", "prefet"):
            await phone.sign_in(role)
            await phone.page.get_by_role("link", name="Signer un avenant").click()
            await expect(phone.page.locator(f"#avenant-renewal-{renewed}")).to_be_visible()
            await expect(phone.page.locator("main")).to_contain_text("+50\u202f000,00\u00a0€")
            await phone.check(f"signature-avenant-{role}")
            await phone.page.select_option("[name=party]", "collectivite" if role == "collectivite" else "etat")
            signatory = "Le président" if role == "collectivite" else "Le préfet de la Gironde"
            await phone.page.fill("[name=signatory]", signatory)
            await phone.page.fill("[name=occurred_at]", typed_on)
            await phone.page.get_by_role("button", name="Continuer").click()
            await expect(phone.page.locator("h1")).to_contain_text("Confirmer")
            await expect(phone.page.locator("main")).to_contain_text("+50\u202f000,00\u00a0€")
            await phone.check(f"confirmer-avenant-{role}")
            await phone.page.get_by_role("button", name="Je confirme").click()
            await expect(phone.page.locator(".fr-alert--success")).to_contain_text("enregistré")
            await phone.check(f"avenant-signe-{role}")
            await phone.sign_out()
        # Concluded, it still reads as what it changed (against the contract just before its conclusion).
        await desk.sign_in("auditor")
        await desk.visit(PAGE, "contrat-renouvellement-conclu")
        heading = desk.page.locator(f"#avenant-renewal-{renewed}")
        await expect(heading).to_contain_text("ce qu'il a changé")
        await expect(heading.locator("..").locator("tr", has_text="A1 — ")).to_contain_text("+50\u202f000,00\u00a0€")
        await desk.visit(PAGE + "/historique", "historique-renouvellement")
        proposed = desk.page.locator("tr", has_text="Avenant proposé")
        await expect(proposed).to_contain_text(
            f"A1 {renewed} : État +50\u202f000,00\u00a0€, collectivité +50\u202f000,00\u00a0€"
        )
        signed = desk.page.locator("tr", has_text=f"renewal-{renewed}, signé par Le préfet de la Gironde")
        await expect(signed).to_have_count(1)  # the history says which avenant, and who signed it
        state = await bordeaux.pacte.contract(DEMO["auditor"], CONTRACT)
        assert state.avenants[f"renewal-{renewed}"].concluded
        # Each signature names its signatory, as a contract signature does, on the page and in the record.
        assert state.avenants[f"renewal-{renewed}"].signatories == {
            Party.COLLECTIVITE: "Le président",
            Party.ETAT: "Le préfet de la Gironde",
        }
        await desk.visit(PAGE, "contrat-avenant-signataires")
        signed = desk.page.locator("tr", has_text=f"renewal-{renewed}").first
        await expect(signed).to_contain_text("(Le préfet de la Gironde)")
        assert state.actions["A1"].amounts[renewed].etat == 45_000_000
    finally:
        for screen in screens:
            await screen.page.context.close()


async def test_an_amendment_is_proposed_shown_and_signed_by_both_parties(
    chromium: Browser, site: str, shots: Path, bordeaux: Stack
) -> None:
    """An amendment (any year of the programme, unlike a renewal): the préfet lowers one fiche's money this year on a
    desktop; each party finds it in *À traiter* on a phone, sees what it signs, signs; the contract then holds it."""
    screens: list[Screen] = []
    try:
        for size in (DESKTOP, PHONE):
            context = await chromium.new_context(locale="fr-FR", viewport=size)  # type: ignore[arg-type]
            screens.append(Screen(await context.new_page(), site, size, shots))
        desk, phone = screens
        before = await bordeaux.pacte.contract(DEMO["auditor"], CONTRACT)
        year = before.current_year
        assert year is not None
        a2 = before.actions["A2"].amounts[year]
        lower = {"etat": a2.etat - 2_000_000, "collectivite": a2.collectivite - 2_000_000}  # 20 000 € less each
        await desk.sign_in("prefet")
        await desk.visit(PAGE + "/actes/avenant", "avenant-formulaire")
        await desk.page.fill("[name=amendment_id]", "AV-W1")
        await desk.page.select_option("[name=year]", str(year))
        for who, cents in lower.items():
            await desk.page.fill(f"[name='amounts.A2.{who}']", euros(cents))
        await desk.page.fill("[name=reason]", "Moins de places ouvertes que prévu")
        await desk.page.get_by_role("button", name="Enregistrer").click()
        await expect(desk.page.locator(".fr-alert--success")).to_contain_text("enregistré")
        shown = desk.page.locator("#avenant-AV-W1").locator("..")
        await expect(shown.locator("tr", has_text="A2 — ")).to_contain_text("\u221220\u202f000,00\u00a0€")
        await desk.check("contrat-avenant-propose")
        await desk.sign_out()
        for role, party, signatory in (
            ("collectivite", "collectivite", "La présidente"),
            ("prefet", "etat", "Le préfet de la Gironde"),
        ):
            await phone.sign_in(role)
            await phone.page.locator("a[href*='avenant_id=AV-W1']").first.click()
            await expect(phone.page.locator("#avenant-AV-W1")).to_be_visible()
            await expect(phone.page.locator("[name=party]")).to_have_value(party)  # opened on its party
            due = f"À signer au plus tard le {day(date(year, 12, 31))}."  # by when, on the form and its confirmation
            await expect(phone.page.locator("#echeance-signature-AV-W1")).to_have_text(due)
            # Sent without its signatory: the refusal is swapped in by htmx, its tables laid out for the phone too.
            await phone.page.get_by_role("button", name="Continuer").click()
            await expect(phone.page.locator(".fr-error-text")).to_be_visible()
            await expect(phone.page.locator("main td[data-label]").first).to_be_attached()  # once htmx has settled
            await phone.check(f"amendement-refuse-{role}")
            await every_cell_on_the_phone(phone, f"amendement-refuse-{role}")
            await phone.page.fill("[name=signatory]", signatory)
            await phone.page.get_by_role("button", name="Continuer").click()
            await expect(phone.page.locator("h1")).to_contain_text("Confirmer")  # the confirmation, not the form
            await expect(phone.page.locator("main")).to_contain_text("\u221220\u202f000,00\u00a0€")
            await expect(phone.page.locator("#echeance-signature-AV-W1")).to_have_text(due)
            await expect(phone.page.locator("main td[data-label]").first).to_be_attached()  # once htmx has settled
            await phone.check(f"confirmer-amendement-{role}")
            # Found by a user walk: the confirmation, swapped in by htmx, showed Fiche / Année / État actuel only.
            cells = await every_cell_on_the_phone(phone, f"confirmer-amendement-{role}")
            assert {"État proposé", "Écart État"} <= {c["head"] for c in cells}, cells
            await phone.page.get_by_role("button", name="Je confirme").click()
            await expect(phone.page.locator(".fr-alert--success")).to_contain_text("enregistré")
            await phone.sign_out()
        after = await bordeaux.pacte.contract(DEMO["auditor"], CONTRACT)
        assert after.avenants["AV-W1"].concluded
        assert after.avenants["AV-W1"].signatories == {Party.COLLECTIVITE: "La présidente", Party.ETAT: signatory}
        assert after.actions["A2"].amounts[year].etat == lower["etat"]
    finally:
        for screen in screens:
            await screen.page.context.close()


async def test_the_list_counts_the_deadlines_missed_as_the_contract_page_shows_them(person: Person) -> None:
    await person.sign_in("auditor")
    deadlines = Tables((await person.get(PAGE)).text).tables["Échéances à venir et manquées"]
    missed = sum(1 for row in deadlines if "manquée" in row[3])
    listing = Tables((await person.get("/ui/contrats")).text).tables
    (row,) = next(rows for caption, rows in listing.items() if caption.startswith("Contrats"))
    assert row[-1] == f"{missed} en retard", (row, missed)
    # Found by a user walk: the history's state on a date said 4 where the list said 3 (it counted every deadline
    # ever recorded missed, those met late since too). The same count, from the same standings, on the same day.
    today = datetime.now(PARIS).date()
    as_of = html.unescape((await person.get(f"{PAGE}/historique/etat?date={today:%d/%m/%Y}")).text)
    assert f"Échéances manquées à cette date : {missed}" in as_of, as_of


async def test_a_date_the_history_cannot_read_is_said_in_french_where_the_answer_goes(person: Person) -> None:
    """Found by a user walk: 32/01/2025 in *État du contrat à une date* showed nothing (htmx swaps no 422)."""
    await person.sign_in("auditor")
    part = f"{PAGE}/historique/etat?date=32%2F01%2F2025"
    swapped = await person.get(part, headers={"HX-Request": "true"})
    assert swapped.status_code == 200 and 'class="fr-alert fr-alert--error' in swapped.text
    said = html.unescape(re.sub(r"<[^>]+>", "", swapped.text)).strip()
    assert "32/01/2025" in said and not re.search(r"\b(the|is|not)\b", said), said  # French, naming what was typed
    assert (await person.get(part)).status_code == 422  # to anyone but htmx, a refusal stays a refusal


ROLES = [i.key for i in demo_identities()]  # every role a person signs in as (préfet … auditor, administrator)
ACTORS = {i.key: i.actor for i in demo_identities()}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", sorted(FORMS))
async def test_a_person_reaches_only_the_forms_of_the_acts_they_may_do(person: Person, kind: str, role: str) -> None:
    """Every act's form, for every role: it opens (and takes a post) only for whom the act's rules allow; anyone else
    gets a French 403 page, not the form, when they open it and when they send it (found by a user walk: the auditor
    and the commissaire got every form by its address, refused only on sending)."""
    await person.sign_in(role)
    form = f"{PAGE}/actes/{SLUGS[kind]}"
    page = await person.get(form)
    if may_do(FORMS[kind].sends, ACTORS[role], CONTRACT):
        assert page.status_code == 200, (kind, role)
        assert f"<h1>{FORMS[kind].title}" in html.unescape(page.text), (kind, role)
        return
    assert page.status_code == 403, (kind, role, page.status_code)
    text = html.unescape(page.text)
    assert "<h1>Accès refusé" in text and f'action="{form}' not in text, (kind, role)
    assert re.search(r"(ne permet pas|ne modifie rien|n'est pas dans votre périmètre)", text), (kind, role)  # why
    # Sent anyway (with the session's token), it is refused the same way and records nothing.
    sent = await person.post(form, {"cle": f"essai-{kind}-{role}"})
    assert sent.status_code == 403 and "<h1>Accès refusé" in html.unescape(sent.text), (kind, role)


@pytest.mark.parametrize("role", ROLES)
async def test_no_page_links_to_a_form_its_reader_may_not_fill(person: Person, role: str) -> None:
    await person.sign_in(role)
    for path in (PAGE, "/ui/a-traiter", "/ui/contrats"):
        page = await person.get(path)
        if role == "admin" and path == PAGE:  # who runs Pacte reads no contract (no business act)
            assert page.status_code == 403
            continue
        assert page.status_code == 200, (role, path, page.status_code)
        by_slug = {slug: kind for kind, slug in SLUGS.items()}
        for slug in re.findall(r'href="/ui/contrats/[^/"]+/actes/([a-z-]+)', page.text):
            assert may_do(FORMS[by_slug[slug]].sends, ACTORS[role], CONTRACT), (role, path, slug)


LANDING = {
    "prefet": "/ui/a-traiter",
    "collectivite": "/ui/a-traiter",
    "commissaire": "/ui/a-traiter",
    "auditor": "/ui/tableau-de-bord",  # who changes nothing lands on what they may read
    "admin": "/ui/administration/jetons",  # who runs Pacte reads no contract: the access it manages
}


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_lands_on_a_page_that_works_for_it_and_its_menu_refuses_nothing(
    person: Person, role: str
) -> None:
    """Found by a user walk: the commissaire's menu led to a 403. Signed in, each person lands on their own page, and
    every link of their menu opens."""
    await person.get("/ui/connexion")
    where = (await person.post("/ui/connexion", {"identity": role, "next": ""})).headers["location"]
    page = await person.get(where)
    while page.status_code in (302, 303, 307):
        where = page.headers["location"]
        page = await person.get(where)
    assert (where, page.status_code) == (LANDING[role], 200)
    menu = page.text[page.text.index('id="navigation"') :]
    links = re.findall(r'href="(/ui/[^"]*)"', menu[: menu.index("</nav>")])
    assert LANDING[role] in links
    for link in links:
        assert (await person.get(link)).status_code == 200, (role, link)


async def test_the_commissaire_sees_the_regions_contracts_deadlines_and_what_is_theirs_to_do(person: Person) -> None:
    await person.sign_in("commissaire")
    page = await person.get("/ui/tableau-de-bord")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert '<a class="fr-link" href="/ui/contrats">1 contrat</a> dans votre région' in text  # one click from the list
    deadlines = Tables(page.text).tables["Échéances manquées et du mois"]
    assert deadlines and all(row[0] == "Bordeaux Métropole" for row in deadlines)
    waiting = Tables((await person.get("/ui/a-traiter")).text).tables[
        "Actes qui vous attendent, les plus en retard d'abord"
    ]
    assert re.search(rf'<a class="fr-link" href="/ui/a-traiter">{len(waiting)} actes? vous attend', text), text


CELLS = """() => {
  const out = [];
  for (const table of document.querySelectorAll("main .fr-table table")) {
    const heads = [...table.querySelectorAll("thead th")].map(th => th.textContent.trim());
    const covered = new Set();  // "row,column" taken by a cell above (rowspan): the HTML table model's columns
    [...table.querySelectorAll("tbody tr")].forEach((row, r) => {
      let column = 0;
      for (const cell of row.children) {
        while (covered.has(`${r},${column}`)) column++;
        for (let k = 1; k < cell.rowSpan; k++) covered.add(`${r + k},${column}`);
        const box = cell.getBoundingClientRect();
        const label = getComputedStyle(cell, "::before").content;
        out.push({caption: table.caption ? table.caption.textContent.trim() : "", head: heads[column] || "",
                  colspan: cell.colSpan, left: box.left, right: box.right, label: label,
                  text: cell.textContent.trim().slice(0, 40), display: getComputedStyle(table).display,
                  thead: table.tHead ? table.tHead.getBoundingClientRect().height : 0});
        column += cell.colSpan;
      }
    });
  }
  return out;
}"""


def day(when: date) -> str:
    return f"{'1er' if when.day == 1 else when.day} {MONTHS[when.month - 1]} {when.year}"


async def every_cell_on_the_phone(screen: Screen, name: str) -> list[dict[str, Any]]:
    """At 390 px every cell of every table of the page is within the screen and preceded by its column's name —
    whether the page was loaded or swapped in by htmx."""
    cells: list[dict[str, Any]] = await screen.page.evaluate(CELLS)
    assert cells, name
    for cell in cells:
        assert cell["left"] >= 0 and cell["right"] <= screen.size["width"] + 0.5, (name, cell)
        if cell["head"] and cell["colspan"] == 1:
            assert cell["head"] in cell["label"], (name, cell)
    return cells


async def test_every_column_of_every_table_is_readable_on_a_phone(screen: Screen) -> None:
    """Found by a user walk: at 390 px the amounts, deadlines and contract lists showed one or two columns, the rest
    out of sight. On a phone each row is a block of labelled cells, every cell within the screen and preceded by its
    column's name; on a desktop the tables stay tables (th scope, caption)."""
    width = screen.size["width"]
    pages = [PAGE, "/ui/a-traiter", "/ui/contrats", "/ui/tableau-de-bord", PAGE + "/historique", "/ui/jetons"]
    for role, path in [("prefet", p) for p in pages] + [("admin", "/ui/administration/jetons")]:
        if path == pages[0] or role == "admin":
            await screen.sign_in(role)
        await screen.visit(path, "tableaux-" + path.rsplit("/", 1)[1])
        cells = await screen.page.evaluate(CELLS)
        assert cells or path != PAGE  # the contract's page always has its tables (others may have nothing to list)
        for cell in cells:
            if screen.desktop:  # the DSFR's table as it is: its header row shown, no label written in the cells
                assert cell["thead"] > 1 and cell["label"] in ("none", "normal"), (path, cell)
                continue
            assert cell["left"] >= 0 and cell["right"] <= width + 0.5, (path, cell)  # nothing out of sight
            assert cell["thead"] <= 1, (path, cell)  # the header row is read in each cell, not shown above
            if cell["head"] and cell["colspan"] == 1:
                assert cell["head"] in cell["label"], (path, cell)  # each cell says which column it is
