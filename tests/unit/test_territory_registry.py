"""Registering a further intercommunalité is a command and an event, not a code change."""

from __future__ import annotations

import pytest

from domain.axes import TerritoryKind
from domain.decider import decide
from domain.errors import DomainError
from domain.policy import DEFAULT_POLICY
from domain.state import INITIAL_STATE
from domain.territories import Territory, TerritoryCatalogue
from domain.territory_registry import RegisterTerritory, catalogue_from, decide_registration
from tests.unit.builders import AUDITOR, EUR, at, command, prefet

NEW = Territory(
    id="200000172",
    name="CA du Grand Exemple",
    kind=TerritoryKind.METROPOLE,
    region="75",
    departements=("33",),
    instruction="DGCS/SD1B/2023/168",
)


def register(actor=prefet("33"), territory: Territory = NEW) -> RegisterTerritory:  # type: ignore[no-untyped-def]
    return RegisterTerritory(actor=actor, request_id="reg-1", at=at(2024, 1, 10), territory=territory)


def test_a_registered_territory_can_then_be_proposed_a_contract() -> None:
    events = decide_registration(register(), TerritoryCatalogue())
    catalogue = catalogue_from(events)
    proposal = command(
        "ProposeContract", "cls-200000172", prefet("33"), at(2024, 1, 11), territory_id="200000172", annual_ceiling=EUR
    )
    with pytest.raises(DomainError, match="not a known territory"):
        decide(proposal, INITIAL_STATE, DEFAULT_POLICY)
    assert decide(proposal, INITIAL_STATE, DEFAULT_POLICY, catalogue)


@pytest.mark.parametrize(
    ("actor", "territory", "code"),
    [
        (AUDITOR, NEW, "forbidden"),
        (prefet("13"), NEW, "out_of_scope"),
        (prefet("33"), NEW.model_copy(update={"id": "243300316"}), "invalid_value"),
    ],
)
def test_registration_refusals(actor, territory: Territory, code: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as info:
        decide_registration(register(actor, territory), TerritoryCatalogue())
    assert info.value.code == code


def test_registering_the_same_territory_twice_changes_nothing() -> None:
    catalogue = catalogue_from(decide_registration(register(), TerritoryCatalogue()))
    assert decide_registration(register(), catalogue) == []
