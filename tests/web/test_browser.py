"""The walkthrough in a real browser (Debian's Chromium, driven by Playwright): the préfet proposes Bordeaux
Métropole, the collectivité adds one fiche action per axis (one refused first, the error shown at its field),
deliberates, both sign, the commissaire records a review, the auditor reads the timeline and the state as of a date,
downloads the CSV and sees "intact". Every page is checked by axe-core (no serious or critical violation) and
photographed under the test's output folder; a form is filled with the keyboard alone."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from domain.business_time import PARIS
from tests.web.conftest import Stack

pytestmark = pytest.mark.integration

CHROMIUM = os.environ.get("PACTE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
YEAR = datetime.now(PARIS).year
FUNDED = [y for y in (2024, 2025, 2026, 2027) if y >= YEAR]
AXES = [
    ("A1", "ENFANCE", "Accueil des jeunes enfants", "400 000,00 €"),
    ("A2", "EMPLOI", "Accompagnement vers l'emploi", "300 000,00 €"),
    ("A3", "GRANDE_EXCLUSION", "Maraudes et accès aux droits", "500 000,00 €"),
    ("A4", "TRANSITION_ECOLOGIQUE", "Précarité énergétique", "200 000,00 €"),
]


class Walk:
    """One person's browser tab; every page it reaches is checked and photographed."""

    def __init__(self, page: Page, base: str, shots: Path, axe: Axe) -> None:
        self.page, self.base, self.shots, self.axe = page, base, shots, axe
        self.count = 0
        self.titles: dict[str, str] = {}  # path -> title

    async def check(self, name: str) -> None:
        self.count += 1
        await self.page.screenshot(path=str(self.shots / f"{self.count:02d}-{name}.png"), full_page=True)
        results = await self.axe.run(self.page)
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not serious, f"{name}: {serious}"
        path = self.page.url.split("?")[0].removeprefix(self.base)
        self.titles[path] = await self.page.title()

    async def goto(self, path: str, name: str) -> None:
        await self.page.goto(self.base + path)
        await self.check(name)

    async def sign_in(self, role: str) -> None:
        await self.page.goto(self.base + "/ui/connexion")
        await self.check(f"connexion-{role}")
        await self.page.click(f"#connexion-{role}")
        landing = {"auditor": "Tableau de bord", "admin": "Jetons d'API du périmètre"}.get(role, "À traiter")
        await expect(self.page.locator("h1")).to_have_text(landing)  # where each person lands

    async def sign_out(self) -> None:
        await self.page.get_by_role("button", name="Se déconnecter").click()
        await expect(self.page.locator("h1")).to_have_text("Se connecter")

    async def fill(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            field = self.page.locator(f"[name='{name}']")
            if await field.evaluate("e => e.tagName") == "SELECT":
                await field.select_option(value)
            else:
                await field.fill(value)


def action_values(
    action_id: str, axis: str, title: str, amount: str, collectivite: str | None = None
) -> dict[str, str]:
    values = {
        "action.action_id": action_id,
        "action.axis": axis,
        "action.title": title,
        "action.objective": f"Objectif : {title.lower()}",
        "action.nature": "new",
        "action.public": "Familles du territoire",
        "action.zone": "Bordeaux Métropole",
        "action.indicators.0.code": f"IND-{action_id}",
        "action.indicators.0.label": "Personnes accompagnées",
        "action.indicators.0.baseline": "100",
    }
    for year in FUNDED:
        values[f"action.indicators.0.targets.{year}"] = "150"
        values[f"action.amounts.{year}.etat"] = amount
        values[f"action.amounts.{year}.collectivite"] = collectivite or amount
    return values


async def test_the_walkthrough_in_chromium(chromium: Browser, served: str, screenshots: Path, web_stack: Stack) -> None:
    context = await chromium.new_context(locale="fr-FR", accept_downloads=True)
    walk = Walk(await context.new_page(), served, screenshots, Axe())
    page = walk.page

    # The préfet of the Gironde proposes Bordeaux Métropole's contract.
    await walk.sign_in("prefet")
    await walk.check("contrats-prefet")
    await walk.goto("/ui/contrats/proposer", "proposer")
    await walk.fill({"territory": "243300316", "annual_ceiling": "1 500 000,00 €"})
    await page.get_by_role("button", name="Proposer").click()
    await expect(page.locator("h1")).to_contain_text("Bordeaux Métropole")
    await expect(page.locator(".fr-alert--success")).to_contain_text("1\u202f500\u202f000,00\u00a0€")
    await walk.check("contrat-propose")
    await walk.sign_out()

    # The collectivité adds one fiche action per axis; the first try is refused for unequal co-financing.
    await walk.sign_in("collectivite")
    contract = "/ui/contrats/cls-243300316"
    await walk.goto(contract + "/actes/ajouter-une-action", "fiche-action")
    before = await web_stack.pacte.store.stream_version("cls-243300316")
    # With the keyboard alone, Tab reaches every input of the largest form, in order, then its button.
    expected = await page.eval_on_selector_all(
        "main form input:not([type=hidden]), main form select", "es => es.map(e => e.id)"
    )
    await page.locator("main").focus()  # where the skip link "Contenu" leads (the h1 takes no focus)
    reached: list[str] = []
    for _ in range(len(expected) + 10):
        await page.keyboard.press("Tab")
        focused = await page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
        if focused == "Enregistrer":
            break
        if focused in expected:
            reached.append(focused)
    assert reached == expected
    await walk.fill(action_values(*AXES[0], collectivite="350 000,00 €"))
    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page.locator("#refus")).to_contain_text("parts égales")
    amounts = page.locator("#groupe-action-amounts")
    await expect(amounts).to_have_class("fr-fieldset fr-fieldset--error")
    await expect(amounts.locator(".fr-message--error")).to_contain_text("parts égales")
    await expect(page.locator("#refus")).to_be_focused()
    await walk.check("fiche-action-refusee")
    assert await web_stack.pacte.store.stream_version("cls-243300316") == before  # nothing written
    await walk.fill({f"action.amounts.{y}.collectivite": AXES[0][3] for y in FUNDED})
    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page.locator(".fr-alert--success")).to_contain_text("Ajouter une fiche action : enregistré")
    for action in AXES[1:]:
        await page.goto(served + contract + "/actes/ajouter-une-action")
        await walk.fill(action_values(*action))
        await page.get_by_role("button", name="Enregistrer").click()
        await expect(page.locator(".fr-alert--success")).to_contain_text("enregistré")
    await walk.check("contrat-quatre-fiches")

    # The deliberation, typed with the keyboard alone.
    await page.goto(served + contract + "/actes/deliberation")
    await walk.check("deliberation")
    await page.locator("[name='deliberation.body']").focus()
    await page.keyboard.press("ArrowDown")  # "Assemblée"
    await page.keyboard.press("Tab")
    today = datetime.now(PARIS).date()
    await page.keyboard.type(today.strftime("%d/%m/%Y"))
    await page.keyboard.press("Tab")
    await page.keyboard.type("DEL-2026-42")
    await page.keyboard.press("Enter")
    await expect(page.locator(".fr-alert--success")).to_contain_text("Enregistrer la délibération : enregistré")

    # Both sign, each confirming an irreversible act on its own page.
    await page.goto(served + contract + "/actes/signature")
    await walk.fill({"party": "collectivite", "signatory": "Président de Bordeaux Métropole"})
    await page.get_by_role("button", name="Continuer").click()
    await expect(page.locator("h1")).to_contain_text("Confirmer")
    await walk.check("confirmer-signature")
    await page.get_by_role("button", name="Je confirme").click()
    await expect(page.locator(".fr-alert--success")).to_contain_text("Signer le contrat : enregistré")
    await walk.sign_out()
    await walk.sign_in("prefet")
    await page.goto(served + contract + "/actes/signature")
    await walk.fill({"party": "etat", "signatory": "Préfet de la Gironde"})
    await page.get_by_role("button", name="Continuer").click()
    await page.get_by_role("button", name="Je confirme").click()
    await expect(page.locator("h1 .fr-badge")).to_have_text("En exécution")
    await walk.check("contrat-signe")
    await walk.goto("/ui/tableau-de-bord", "tableau-de-bord-prefet")
    await walk.sign_out()

    # The commissaire records the year's committee review.
    await walk.sign_in("commissaire")
    await walk.goto(contract + "/actes/comite-de-suivi", "comite-de-suivi")
    await walk.fill(
        {
            "year": str(YEAR),
            "review_date": today.strftime("%d/%m/%Y"),
            "findings": "Actions lancées, publics atteints",
            "decision": "CONTINUE",
        }
    )
    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page.locator(".fr-alert--success")).to_contain_text("Enregistrer un comité de suivi : enregistré")
    await walk.sign_out()

    # The auditor reads the timeline and the state as of a date, downloads the CSV, and verifies the store.
    await walk.sign_in("auditor")
    await walk.goto("/ui/contrats", "contrats-auditeur")
    await walk.goto(contract, "contrat-auditeur")
    await walk.goto(contract + "/historique", "historique")
    await expect(page.locator("table").last).to_contain_text("Contrat signé")
    await page.fill("#date-etat", today.strftime("%d/%m/%Y"))
    await page.get_by_role("button", name="Afficher l'état").click()
    result = page.locator("#etat-a-date .fr-callout")
    await expect(result).to_contain_text("En exécution")
    await expect(result).to_be_focused()  # the new content takes the focus, and is announced
    await walk.check("etat-a-date")
    async with page.expect_download() as download_info:
        await page.click("#export-csv")
    download = await download_info.value
    csv_path = screenshots / "pacte-cls-243300316.csv"
    await download.save_as(csv_path)
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("global_position,stream_id,version,event_type")
    assert len(lines) - 1 == await web_stack.pacte.store.stream_version("cls-243300316")
    await walk.goto("/ui/audit", "audit")
    await page.click("#verifier")
    await expect(page.locator("#resultat-verification")).to_contain_text("Registre intact")
    await walk.check("audit-intact")
    await walk.goto("/ui/tableau-de-bord", "tableau-de-bord-national")
    await walk.goto("/ui/accessibilite", "accessibilite")
    await walk.sign_out()

    # The administrator of Pacte for the Gironde sees the API tokens of the département, each revocable.
    await walk.sign_in("admin")
    await walk.goto("/ui/administration/jetons", "jetons-administration")
    await expect(page.locator("h1")).to_have_text("Jetons d'API du périmètre")
    # Every page its own title: no two pages seen share one.
    assert len(walk.titles) >= 12 and len(set(walk.titles.values())) == len(walk.titles), walk.titles
    await context.close()
