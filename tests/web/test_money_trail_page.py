"""The contract's page shows its money trail (issue 30): per year, programmed, envelope, committed, paid (or
"(déduit)" when no payment is recorded), used, and each gap in French, with French amounts."""

from __future__ import annotations

from html import unescape

import pytest

from pacte.reprise_file import dump_lines
from tests.integration.test_money_trail_api import ACTORS, CID, charente_history
from tests.web.conftest import Browser, Stack

pytestmark = pytest.mark.integration


async def test_the_contract_page_shows_the_money_trail_in_french(browser: Browser, web_stack: Stack) -> None:
    report = await web_stack.pacte.import_file(ACTORS["prefet"], dump_lines(charente_history()))
    assert report.contracts[0].outcome == "imported", report
    await browser.sign_in("auditor")
    page = unescape((await browser.get(f"/ui/contrats/{CID}")).text)
    section = page[page.index('id="credits"') : page.index('id="avenants"')]
    assert "Suivi des crédits de l'État" in section
    row_2024 = section[section.index('<th scope="row">2024</th>') : section.index('<th scope="row">2025</th>')]
    assert "1\u202f100\u202f000,00\u00a0€" in row_2024 and "550\u202f000,00\u00a0€" in row_2024
    assert "(déduit)" not in row_2024
    row_2025 = section[section.index('<th scope="row">2025</th>') :]
    assert "(déduit)" in row_2025 and "Paiements non saisis" in row_2025
    assert "Aucune enveloppe de l'État n'est notifiée pour cette année." in row_2025
