"""A person an import file names is shown as declared, in French, where people read the history (issue 25, item 8)."""

from __future__ import annotations

from domain.actors import Actor, Role
from pacte.reprise_file import dump_lines
from tests.unit.builders import BORDEAUX_ACTIONS
from tests.web.conftest import Browser, Stack

PREFET_53 = Actor(role=Role.PREFET, identity="prefecture-mayenne", scope=("53",))
MAYENNE = {"role": "collectivite", "identity": "departement-mayenne", "scope": ["D53"]}
AGENT = {"sub": "sub-of-a-real-agent", "name": "Marie Dupont", "email": "marie.dupont@mayenne.fr"}


async def test_the_history_says_an_imported_person_was_declared(browser: Browser, web_stack: Stack) -> None:
    base = {"contract_id": "cls-d53", "source": "dossier de la préfecture"}
    lines = [
        base
        | {
            "type": "ProposeContract",
            "occurred_at": "2023-12-05",
            "actor": PREFET_53.model_dump(mode="json"),
            "territory_id": "D53",
            "annual_ceiling": 150_000_000,
            "draft_actions": [a.model_dump(mode="json") for a in BORDEAUX_ACTIONS if a.axis != "EMPLOI"],
        },
        base
        | {
            "type": "RecordDeliberation",
            "occurred_at": "2024-02-10",
            "actor": MAYENNE | {"person": AGENT},
            "deliberation": {"body": "assemblee", "voted_on": "2024-02-09", "reference": "2024-07"},
        },
    ]
    report = await web_stack.pacte.import_file(PREFET_53, dump_lines(lines))
    assert report.imported == 1, report
    await browser.sign_in("auditor")
    page = await browser.get("/ui/contrats/cls-d53/historique")
    assert page.status_code == 200
    assert (
        'Marie Dupont <span class="fr-badge fr-badge--sm fr-badge--warning">déclaré par l\'import</span>' in page.text
    )
