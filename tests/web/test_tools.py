"""The agents' daily tools (issue 26, items 3–5), on a service of their own: the exports for people read back as French
Excel reads them, the contract list searched, sorted and paged by keyset, and an import previewed then confirmed."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser as Chromium
from playwright.async_api import expect

from domain.business_time import PARIS
from domain.deadlines import Standing, deadline_standings
from domain.state import ContractState
from domain.status import Status
from domain.territories import synthetic_territory
from eventstore.projections import summary_json
from pacte.reprise_file import dump_lines
from pacte.service import ContractNotFound
from pacte.service.facade import policy_now
from pacte.tokens import DEMO
from tests.unit.builders import BORDEAUX, BORDEAUX_ACTIONS
from tests.web.conftest import Browser, Stack, free_port, fresh_stack, serving
from tests.web.test_screens import SIZES, Screen, bordeaux_history

pytestmark = pytest.mark.integration

CONTRACT = f"cls-{BORDEAUX}"


@pytest.fixture(scope="module")
async def tools_stack(postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with fresh_stack(postgres_server_url, tmp_path_factory.mktemp("tools")) as stack:
        report = await stack.pacte.import_file(DEMO["prefet"], bordeaux_history())
        assert report.imported == 1, report
        yield stack


@pytest.fixture
async def agent(tools_stack: Stack) -> AsyncIterator[Browser]:
    transport = httpx.ASGITransport(app=tools_stack.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pacte") as http:
        yield Browser(http)


async def api_token(agent: Browser, role: str) -> dict[str, str]:
    """A token of the person signed in as ``role``, made on *Mes jetons d'API*."""
    await agent.sign_in(role)
    await agent.get("/ui/jetons")
    created = await agent.post("/ui/jetons", {"days": "30"})
    token = re.search(r'<code id="jeton">([^<]+)</code>', created.text)
    assert token is not None, created.text
    return {"Authorization": f"Bearer {token.group(1)}"}


def as_french_excel(answer: httpx.Response) -> list[dict[str, str]]:
    """The download read as a spreadsheet set up for France reads a CSV: UTF-8 (the BOM says so), `;` between cells."""
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")
    text = answer.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def euros(cell: str) -> int:
    """A French decimal amount in cents; anything else (text, "1 500 000,00", "1500000.00") fails here."""
    assert cell.replace("-", "", 1).replace(",", "", 1).isdigit() and "," in cell, cell
    cents = Decimal(cell.replace(",", ".")) * 100
    assert cents == int(cents)
    return int(cents)


async def test_the_exports_for_people_open_in_french_excel_with_the_contracts_amounts(
    agent: Browser, tools_stack: Stack
) -> None:
    state: ContractState = await tools_stack.pacte.contract(DEMO["prefet"], CONTRACT)
    await agent.sign_in("prefet")
    page = await agent.get(f"/ui/contrats/{CONTRACT}")
    for link in ("contrats.csv", "fiches-actions.csv", "echeances.csv", "comites-et-rapports.csv"):
        assert f'href="/ui/exports/{link}?contrat={CONTRACT}"' in page.text, link

    [contract] = as_french_excel(await agent.get(f"/ui/exports/contrats.csv?contrat={CONTRACT}"))
    assert contract["Territoire"] == state.territory_name
    assert euros(contract["Plafond annuel (€)"]) == state.annual_ceiling
    actions = as_french_excel(await agent.get(f"/ui/exports/fiches-actions.csv?contrat={CONTRACT}"))
    by_financeur = {"État": "etat", "Collectivité": "collectivite", "Partenaires": "partenaires"}
    assert {(r["Fiche"], int(r["Année"]), r["Financeur"]): euros(r["Montant (€)"]) for r in actions} == {
        (action_id, year, name): getattr(amounts, field)
        for action_id, action in state.actions.items()
        for year, amounts in action.amounts.items()
        for name, field in by_financeur.items()
    }
    deadlines = as_french_excel(await agent.get(f"/ui/exports/echeances.csv?contrat={CONTRACT}"))
    assert deadlines and all(r["Date limite"][2] == "/" for r in deadlines)
    reviews = as_french_excel(await agent.get(f"/ui/exports/comites-et-rapports.csv?contrat={CONTRACT}"))
    assert [(r["Type"], r["Date"]) for r in reviews] == [("Comité de suivi", "18/11/2024")]

    # The API serves the same tables to a token, within its scope.
    api = agent.http
    token = await api_token(agent, "prefet")
    from_api = as_french_excel(await api.get(f"/exports/tables/actions.csv?contract_id={CONTRACT}", headers=token))
    assert from_api == actions
    assert (await api.get("/exports/tables/nothing.csv", headers=token)).status_code == 422
    other = await api_token(agent, "collectivite")
    assert (await api.get("/exports/tables/contracts.csv?contract_id=cls-d15", headers=other)).status_code == 403


async def test_an_export_of_a_contract_out_of_scope_is_refused(agent: Browser) -> None:
    await agent.sign_in("collectivite")  # Bordeaux Métropole's agent: not the Cantal's
    assert (await agent.get("/ui/exports/contrats.csv?contrat=cls-d15")).status_code == 403


async def synthetic_contracts(stack: Stack, count: int) -> list[ContractState]:
    """Read-model rows of ``count`` simulated intercommunalités (a list reads nothing else), as bench.scale's."""
    made = []
    for n in range(1, count + 1):
        territory = synthetic_territory(f"0{n:08d}")
        assert territory is not None
        state = ContractState(
            contract_id=territory.contract_id,
            status=Status.TERMINATED if n % 3 == 0 else Status.IN_EXECUTION if n % 2 else Status.PROPOSED,
            territory_id=territory.id,
            territory_name=territory.name,
            kind=territory.kind,
            region=territory.region,
            departements=territory.departements,
            annual_ceiling=1_000_000_00,  # every one the same: the sort by ceiling is all ties
            current_year=2026,
            version=1,
            last_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
        await stack.pacte.store.pool.execute("SELECT pacte_project($1::text::jsonb, NULL)", summary_json(state))
        made.append(state)
    return made


async def test_a_search_narrows_the_list_and_its_pages_keep_the_filters(agent: Browser, tools_stack: Stack) -> None:
    made = await synthetic_contracts(tools_stack, 240)
    await agent.sign_in("auditor")
    first = await agent.get("/ui/contrats?q=bordeaux")
    assert first.status_code == 200
    assert re.findall(r'href="/ui/contrats/(cls-[^"]+)"', first.text) == [CONTRACT]
    assert 'id="page-suivante"' not in first.text

    bordeaux = await tools_stack.pacte.contract(DEMO["auditor"], CONTRACT)
    wanted = {
        s.contract_id for s in [*made, bordeaux] if s.kind is s.kind.METROPOLE and s.status is Status.IN_EXECUTION
    }
    assert len(wanted) > 50  # more than a page
    url: str | None = "/ui/contrats?type=metropole&statut=IN_EXECUTION&tri=plafond&ordre=desc"
    seen: list[str] = []
    while url is not None:
        page = await agent.get(url)
        assert page.status_code == 200
        assert f"{len(wanted)} contrats dans votre périmètre correspondant à la recherche" in page.text
        seen += re.findall(r'href="/ui/contrats/(cls-[^"]+)"', page.text)
        found = re.search(r'id="page-suivante" href="([^"]+)"', page.text)
        url = "/ui/contrats" + html.unescape(found.group(1)) if found else None
        if url:
            assert (
                "type=metropole" in url
                and "statut=IN_EXECUTION" in url
                and "tri=plafond" in url
                and "ordre=desc" in url
            )
    assert len(seen) == len(set(seen)) and set(seen) == wanted

    today = datetime.now(PARIS).date()
    owing = {
        s.contract_id
        for s in [*made, bordeaux]
        if any(d.standing is Standing.MISSED for d in deadline_standings(s, policy_now(), today))
    }
    assert CONTRACT in owing and len(owing) < len(made) + 1
    late = await agent.get("/ui/contrats?en_retard=1&tri=annee&ordre=desc")
    assert f"{len(owing)} contrat" in late.text
    assert set(re.findall(r'href="/ui/contrats/(cls-[^"]+)"', late.text)) <= owing
    departement = await agent.get("/ui/contrats?departement=33")
    assert CONTRACT in departement.text and "cls-000000001" not in departement.text

    token = await api_token(agent, "auditor")
    answer = await agent.http.get("/search/contracts?kind=metropole&status=IN_EXECUTION&limit=20", headers=token)
    assert answer.status_code == 200
    body = answer.json()
    assert body["total"] == len(wanted) and len(body["contracts"]) == 20 and body["next"]
    after = await agent.http.get(
        f"/search/contracts?kind=metropole&status=IN_EXECUTION&limit=20&after={body['next']}", headers=token
    )
    assert not {c["contract_id"] for c in body["contracts"]} & {c["contract_id"] for c in after.json()["contracts"]}
    mixed = await agent.http.get(f"/search/contracts?sort=plafond&after={body['next']}", headers=token)
    assert mixed.status_code == 422 and mixed.json()["field"] == "after"


def gironde_file(bad_line: bool = True) -> str:
    """The Gironde's département taken over (three facts), and Bordeaux Métropole again with its deliberation dated
    before its proposal (line 5): refused at that line, whatever the store holds."""
    prefet, agent = DEMO["prefet"].model_dump(mode="json"), {"role": "collectivite", "identity": "departement-gironde"}
    d33 = {"contract_id": "cls-d33", "source": "dossier de la préfecture"}
    bordeaux = {"contract_id": CONTRACT, "source": "convention CLS Bordeaux Métropole"}
    return dump_lines(
        [
            d33
            | {
                "type": "ProposeContract",
                "occurred_at": "2023-12-05",
                "actor": prefet,
                "territory_id": "D33",
                "annual_ceiling": 150_000_000,
                "draft_actions": [a.model_dump(mode="json") for a in BORDEAUX_ACTIONS if a.axis != "EMPLOI"],
            },
            d33
            | {
                "type": "RecordDeliberation",
                "occurred_at": "2024-02-10",
                "actor": agent | {"scope": ["D33"]},
                "deliberation": {"body": "assemblee", "voted_on": "2024-02-09", "reference": "2024-07"},
            },
            d33
            | {
                "type": "SignContract",
                "occurred_at": "2024-03-01",
                "actor": prefet,
                "party": "etat",
                "signatory": "Préfet de la Gironde",
            },
            bordeaux
            | {
                "type": "ProposeContract",
                "occurred_at": "2023-12-01",
                "actor": prefet,
                "territory_id": BORDEAUX,
                "annual_ceiling": 150_000_000,
                "draft_actions": [a.model_dump(mode="json") for a in BORDEAUX_ACTIONS],
            },
            bordeaux
            | {
                "type": "RecordDeliberation",
                "occurred_at": "2023-11-15" if bad_line else "2024-02-15",
                "actor": DEMO["collectivite"].model_dump(mode="json"),
                "deliberation": {"body": "assemblee", "voted_on": "2023-11-14", "reference": "DEL-2023-1"},
            },
        ]
    )


async def recorded(stack: Stack) -> tuple[int, int]:
    """Events in the store, and read-model rows: what a dry run must leave as it found."""
    pool = stack.pacte.store.pool
    return await pool.fetchval("SELECT count(*) FROM events"), await pool.fetchval(
        "SELECT count(*) FROM contract_summary"
    )


async def test_a_dry_run_decides_as_the_import_and_records_nothing(tools_stack: Stack) -> None:
    pacte, prefet = tools_stack.pacte, DEMO["prefet"]
    before = await recorded(tools_stack)
    preview = await pacte.import_file(prefet, gironde_file(), dry_run=True)
    assert preview.dry_run and (preview.imported, preview.unchanged, preview.refused) == (1, 0, 1)
    by_id = {o.contract_id: o for o in preview.contracts}
    assert by_id["cls-d33"].outcome == "imported" and by_id["cls-d33"].events >= 3
    refused = by_id[CONTRACT]
    assert (refused.line, refused.field, refused.rule) == (5, "occurred_at", "import.out_of_order")
    assert refused.params == {"date": "2023-11-15"}
    assert await recorded(tools_stack) == before
    assert await pacte.store.stream_version("cls-d33") == 0
    with pytest.raises(ContractNotFound):
        await pacte.contract(prefet, "cls-d33")  # no workflow started either

    done = await pacte.import_file(prefet, gironde_file())
    assert not done.dry_run and (done.imported, done.refused) == (1, 1)
    assert [(o.contract_id, o.outcome, o.line, o.rule) for o in done.contracts] == [
        (o.contract_id, o.outcome, o.line, o.rule) for o in preview.contracts
    ]
    assert {o.contract_id: o.events for o in done.contracts}["cls-d33"] == by_id["cls-d33"].events
    after = await recorded(tools_stack)
    again = await pacte.import_file(prefet, gironde_file(), dry_run=True)
    assert {o.contract_id: o.outcome for o in again.contracts} == {"cls-d33": "unchanged", CONTRACT: "refused"}
    assert (await pacte.import_file(prefet, gironde_file())).imported == 0
    assert await recorded(tools_stack) == after


@pytest.mark.parametrize("size", SIZES)
async def test_in_chromium_an_import_previewed_then_confirmed_an_export_opened_a_search_paged(
    size: dict[str, int], chromium: Chromium, postgres_server_url: str, tmp_path: Path
) -> None:
    # A service of its own for each size: the file's good contract is imported once per service.
    async with fresh_stack(postgres_server_url, tmp_path / "data") as stack, serving(stack.app, free_port()) as base:
        context = await chromium.new_context(locale="fr-FR", viewport=size)  # type: ignore[arg-type]
        screen = Screen(await context.new_page(), base, size, tmp_path)
        page = screen.page
        file = tmp_path / "reprise-gironde.jsonl"
        file.write_text(gironde_file(), encoding="utf-8")
        try:
            await screen.sign_in("prefet")
            await screen.visit("/ui/contrats", "contrats")
            await page.locator("#lien-reprise").click()
            await expect(page.locator("h1")).to_have_text("Reprendre des contrats en cours")
            await screen.check("reprise")

            await page.set_input_files("#fichier", str(file))
            await page.locator("#verifier-import").click()
            await expect(page.locator("#bilan")).to_contain_text("rien n'a encore été enregistré")
            await screen.check("apercu")
            refused = page.locator(f'tr[data-contrat="{CONTRACT}"]')
            await expect(refused).to_have_attribute("data-resultat", "refused")
            await expect(refused.locator("td").nth(2)).to_have_text("5")  # the line
            await expect(refused.locator("td").nth(3)).to_have_text("occurred_at")  # the field
            await expect(refused).to_contain_text("est avant la date de la ligne précédente")  # the rule, in French
            await expect(page.locator('tr[data-contrat="cls-d33"]')).to_contain_text("Sera importé")
            assert await stack.pacte.store.stream_version("cls-d33") == 0  # a preview records nothing

            await page.locator("#confirmer-import").click()
            await expect(page.locator("#bilan")).to_contain_text("terminé")
            await screen.check("importe")
            await expect(page.locator('tr[data-contrat="cls-d33"]')).to_contain_text("Importé")
            await expect(page.locator(f'tr[data-contrat="{CONTRACT}"]')).to_contain_text("Refusé")
            version = await stack.pacte.store.stream_version("cls-d33")
            assert version > 0 and await stack.pacte.store.stream_version(CONTRACT) == 0

            # The same file again: nothing to import, nothing changes.
            await screen.visit("/ui/reprise", "reprise-encore")
            await page.set_input_files("#fichier", str(file))
            await page.locator("#verifier-import").click()
            await expect(page.locator('tr[data-contrat="cls-d33"]')).to_contain_text("Déjà là")
            await expect(page.locator("#confirmer-import")).to_have_count(0)
            await screen.check("apercu-encore")
            assert await stack.pacte.store.stream_version("cls-d33") == version

            # Its fiches' money downloaded from the contract page, opened as French Excel opens a CSV.
            await screen.visit("/ui/contrats/cls-d33", "contrat-d33")
            async with page.expect_download() as started:
                await page.locator("#tableau-fiches-actions").click()
            download = await started.value
            assert download.suggested_filename == "fiches-actions.csv"
            state = await stack.pacte.contract(DEMO["prefet"], "cls-d33")
            text = await asyncio.to_thread(Path(await download.path()).read_text, encoding="utf-8-sig")
            rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
            assert sum(euros(r["Montant (€)"]) for r in rows if r["Financeur"] == "État") == sum(
                a.etat for action in state.actions.values() for a in action.amounts.values()
            )
            await screen.check("telechargement")

            # A search narrowing many contracts, its pages keeping the filters.
            await synthetic_contracts(stack, 300)
            await screen.sign_out()
            await screen.sign_in("auditor")
            await screen.visit("/ui/contrats?q=gironde", "recherche")
            await expect(page.locator("#nombre-contrats")).to_contain_text("1 contrat ")
            await screen.visit("/ui/contrats?type=metropole&statut=IN_EXECUTION&tri=plafond&ordre=desc", "filtres")
            await page.locator("#page-suivante").click()
            await expect(page.locator("#premiere-page")).to_be_visible()
            await screen.check("page-suivante")
            assert "type=metropole" in page.url and "statut=IN_EXECUTION" in page.url and "apres=" in page.url
            await expect(page.locator("#filtre-type")).to_have_value("metropole")
        finally:
            await context.close()
