"""Who may attest a contract's history by import (issue 24, defect 9): each line is a fact its actor did, held to the
authority rules as if they had typed it (test_import_parties.py), *and* a fact the importer attests — the préfecture
that holds the contract's file. A préfet whose scope holds one of the territory's départements attests every line of
that territory (its own signatures, the collectivité's votes and signatures, the commissaire's committees); a
national-scope préfet (``*``) attests any territory's; nobody else attests anything: a collectivité cannot attest the
État's signature, nor its own acts (its word about itself is not the État's record), a commissaire, an auditor, an
administrator or the system neither."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.actors import Actor, Role
from domain.reprise import LineRefused, check_attestation, parse_line
from domain.territories import REFERENCE_TERRITORIES
from pacte.web.messages import RULES

NOW = datetime(2026, 12, 1, tzinfo=UTC)
NANTES = REFERENCE_TERRITORIES["244400404"]
ALSACE = REFERENCE_TERRITORIES["D6768"]
PREFET_44 = {"role": "prefet", "identity": "prefecture-loire-atlantique", "scope": ["44"]}
NANTES_METROPOLE = {"role": "collectivite", "identity": "nantes-metropole", "scope": ["244400404"]}
COMMISSAIRE_52 = {"role": "commissaire", "identity": "commissaire-pays-de-la-loire", "scope": ["52"]}


def signature(actor: dict[str, Any], party: str) -> dict[str, Any]:
    return {
        "type": "SignContract",
        "contract_id": "cls-244400404",
        "occurred_at": "2024-03-28",
        "actor": actor,
        "source": "convention",
        "party": party,
        "signatory": "X",
    }


LINES = [signature(PREFET_44, "etat"), signature(NANTES_METROPOLE, "collectivite")]


@pytest.mark.parametrize(
    "importer",
    [
        Actor(role=Role.PREFET, identity="prefecture-loire-atlantique", scope=("44",)),
        Actor(role=Role.PREFET, identity="prefecture-44-85", scope=("85", "44")),
        Actor(role=Role.PREFET, identity="dgcs", scope=("*",)),  # a national scope attests any territory's facts
    ],
)
def test_the_territorys_prefet_and_a_national_scope_attest_every_line(importer: Actor) -> None:
    for n, raw in enumerate(LINES, 1):
        assert parse_line(raw, n, importer, NOW, NANTES).command.recorded_by == importer


@pytest.mark.parametrize(
    ("importer", "rule"),
    [
        (Actor(role=Role.COLLECTIVITE, identity="nantes-metropole", scope=("244400404",)), "import.attester_role"),
        (Actor(role=Role.COMMISSAIRE, identity="commissaire-pays-de-la-loire", scope=("52",)), "import.attester_role"),
        (Actor(role=Role.AUDITOR, identity="cour-des-comptes", scope=("*",)), "import.attester_role"),
        (Actor(role=Role.ADMIN, identity="administration-44", scope=("44",)), "import.attester_role"),
        (Actor(role=Role.PREFET, identity="prefecture-gironde", scope=("33",)), "import.attester_scope"),
    ],
)
def test_nobody_else_attests_a_line_of_the_territory(importer: Actor, rule: str) -> None:
    for n, raw in enumerate(LINES, 1):  # the État's signature, and the collectivité's own
        with pytest.raises(LineRefused) as refused:
            parse_line(raw, n, importer, NOW, NANTES)
        assert (refused.value.line, refused.value.field, refused.value.rule) == (n, "recorded_by", rule)
        assert rule in RULES and refused.value.params


def test_a_prefet_of_one_of_a_territorys_departements_attests_its_history() -> None:
    """Alsace (67 and 68): the préfet of the Haut-Rhin attests the Alsace contract's lines, as they act on it live."""
    check_attestation(Actor(role=Role.PREFET, identity="prefecture-haut-rhin", scope=("68",)), ALSACE)
