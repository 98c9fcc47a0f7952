"""Import attributes facts to nobody it should not (issue 25, item 8): a person an import line names is *declared*
("déclaré par l'import"), never the signed-in person of the same sub, whatever the line claims; a line's actor must be
one of the contract's territory's own parties."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.actors import Actor, Person, Role
from domain.reprise import LineRefused, parse_line
from domain.territories import REFERENCE_TERRITORIES
from pacte.service.exports import _person

NOW = datetime(2026, 12, 1, tzinfo=UTC)
IMPORTER = Actor(role=Role.PREFET, identity="prefecture-loire-atlantique", scope=("44",))
NANTES = REFERENCE_TERRITORIES["244400404"]
AGENT = {"sub": "sub-of-a-real-agent", "name": "Marie Dupont", "email": "marie.dupont@loire-atlantique.gouv.fr"}


def line(actor: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "RecordDeliberation",
        "contract_id": "cls-244400404",
        "occurred_at": "2024-02-10",
        "actor": actor,
        "source": "délibération n° 2024-07",
        "deliberation": {"body": "assemblee", "voted_on": "2024-02-09", "reference": "2024-07"},
    }


NANTES_METROPOLE = {"role": "collectivite", "identity": "nantes-metropole", "scope": ["244400404"]}


@pytest.mark.parametrize("claimed", [{}, {"declared": False}, {"declared": True}])
def test_a_person_named_by_a_file_is_declared_whatever_the_line_says(claimed: dict[str, Any]) -> None:
    parsed = parse_line(line(NANTES_METROPOLE | {"person": AGENT | claimed}), 2, IMPORTER, NOW, NANTES)
    person = parsed.command.actor.person
    assert person is not None and person.declared
    signed_in = Person(**AGENT)
    assert person != signed_in  # never confused with the agent who signs in with that sub
    assert parsed.command.model_dump(mode="json")["actor"]["person"]["declared"] is True  # recorded as such


def test_a_signed_in_persons_stored_form_is_unchanged() -> None:
    """Facts recorded before keep exactly their form (and their digests): ``declared`` appears only when true."""
    assert "declared" not in Person(**AGENT).model_dump(mode="json")


def test_a_line_without_a_person_stays_without_one() -> None:
    assert parse_line(line(NANTES_METROPOLE), 2, IMPORTER, NOW, NANTES).command.actor.person is None


@pytest.mark.parametrize(
    "actor",
    [
        {"role": "prefet", "identity": "ministre", "scope": ["*"]},  # a national scope: not the territory's préfet
        {"role": "prefet", "identity": "prefecture-gironde", "scope": ["33"]},  # another département's
        {"role": "collectivite", "identity": "bordeaux-metropole", "scope": ["243300316"]},  # another collectivité
        {"role": "collectivite", "identity": "national", "scope": ["*"]},
        {"role": "commissaire", "identity": "commissaire-national", "scope": ["*"]},
        {"role": "commissaire", "identity": "commissaire-nouvelle-aquitaine", "scope": ["75"]},
        {"role": "auditor", "identity": "cour-des-comptes", "scope": ["*"]},
        {"role": "admin", "identity": "administration-loire-atlantique", "scope": ["44"]},
        {"role": "system", "identity": "pacte", "scope": ["*"]},
    ],
)
def test_a_fact_is_attributed_only_to_one_of_the_territorys_parties(actor: dict[str, Any]) -> None:
    with pytest.raises(LineRefused) as refused:
        parse_line(line(actor), 7, IMPORTER, NOW, NANTES)
    assert refused.value.line == 7 and refused.value.field == "actor"
    assert "Nantes" in refused.value.message and actor["identity"] in refused.value.message


@pytest.mark.parametrize(
    "actor",
    [
        {"role": "prefet", "identity": "prefecture-loire-atlantique", "scope": ["44"]},
        NANTES_METROPOLE,
        {"role": "commissaire", "identity": "commissaire-pays-de-la-loire", "scope": ["52"]},
        # Held to the authority rules as if they had typed it: a préfet whose scope holds the territory's département
        # among others acts on it live (domain.scope), and so may a line attribute a fact to them.
        {"role": "prefet", "identity": "prefecture-44-et-33", "scope": ["44", "33"]},
        {"role": "collectivite", "identity": "nantes-et-bordeaux", "scope": ["244400404", "243300316"]},
    ],
)
def test_the_territorys_own_parties_are_accepted(actor: dict[str, Any]) -> None:
    assert parse_line(line(actor), 1, IMPORTER, NOW, NANTES).command.actor.identity == actor["identity"]


def test_the_csv_export_says_a_person_was_declared() -> None:
    assert _person(AGENT | {"declared": True}) == (
        "Marie Dupont <marie.dupont@loire-atlantique.gouv.fr> (déclaré par l'import)"
    )
    assert _person(AGENT) == "Marie Dupont <marie.dupont@loire-atlantique.gouv.fr>"
