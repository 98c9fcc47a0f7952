"""The agents' daily tools (issue 26, items 3–5), on a service of their own: the exports for people read back as French
Excel reads them, the contract list searched, sorted and paged by keyset, and an import previewed then confirmed."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from domain.state import ContractState
from pacte.tokens import DEMO
from tests.unit.builders import BORDEAUX
from tests.web.conftest import Browser, Stack, fresh_stack
from tests.web.test_screens import bordeaux_history

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
