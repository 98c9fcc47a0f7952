import pytest

from domain.axes import Axis, TerritoryKind
from domain.decider import decide
from domain.departements_data import DEPARTEMENTS
from domain.errors import UnknownTerritory
from domain.events import ContractProposed
from domain.policy import DEFAULT_POLICY
from domain.state import INITIAL_STATE
from domain.territories import (
    REFERENCE_TERRITORIES,
    TerritoryCatalogue,
    contract_id_for,
    synthetic_intercommunalites,
    synthetic_territory,
)
from pacte.simulate import choose_territories
from tests.unit.builders import EUR, at, command, prefet


def test_every_departement_is_covered_exactly_once_by_a_departement_level_collectivite() -> None:
    covered: list[str] = []
    for t in REFERENCE_TERRITORIES.values():
        if t.kind is TerritoryKind.DEPARTEMENT and t.id != "200046977":  # Lyon signs beside the Rhône
            covered.extend(t.departements)
    assert len(covered) == 101
    assert len(set(covered)) == 101


def test_groupings_of_domain_md() -> None:
    assert REFERENCE_TERRITORIES["D2A2B"].departements == ("2A", "2B")
    assert REFERENCE_TERRITORIES["D6768"].departements == ("67", "68")
    assert REFERENCE_TERRITORIES["217500016"].name == "Ville de Paris"
    assert "D75" not in REFERENCE_TERRITORIES and "D2A" not in REFERENCE_TERRITORIES
    lyon = REFERENCE_TERRITORIES["200046977"]
    assert lyon.kind is TerritoryKind.DEPARTEMENT and "D69" in REFERENCE_TERRITORIES
    signatories = [t for t in REFERENCE_TERRITORIES.values() if t.kind is TerritoryKind.DEPARTEMENT]
    assert len(signatories) == 100


def test_metropoles_have_four_axes_and_departements_three() -> None:
    bordeaux = REFERENCE_TERRITORIES["243300316"]
    assert bordeaux.kind is TerritoryKind.METROPOLE and len(bordeaux.axes) == 4
    assert Axis.EMPLOI not in REFERENCE_TERRITORIES["D33"].axes
    assert REFERENCE_TERRITORIES["248000531"].name == "CA Amiens Métropole"


def test_contract_ids_are_stable() -> None:
    assert contract_id_for("243300316") == "cls-243300316"
    assert contract_id_for("D2A2B") == "cls-d2a2b"


def test_catalogue_accepts_registered_territories() -> None:
    catalogue = TerritoryCatalogue()
    assert "200000001" not in catalogue
    new = REFERENCE_TERRITORIES["243300316"].model_copy(update={"id": "200000001", "name": "CA Nouvelle"})
    assert catalogue.with_registered(new).get("200000001") == new


def test_synthetic_intercommunalites_are_valid_distinct_and_never_real() -> None:
    synthetic = synthetic_intercommunalites(250)
    assert [t.id for t in synthetic[:2]] == ["000000001", "000000002"]
    assert len({t.id for t in synthetic}) == 250
    assert not {t.id for t in synthetic} & set(REFERENCE_TERRITORIES)
    assert all(t.kind is TerritoryKind.METROPOLE and len(t.axes) == 4 for t in synthetic)
    # spread over the départements in turn, each with its own région
    region_of = {code: region for code, region, _ in DEPARTEMENTS}
    assert all(t.region == region_of[t.departements[0]] for t in synthetic)
    assert len({t.departements for t in synthetic}) == len(DEPARTEMENTS)
    assert synthetic_intercommunalites(250) == synthetic  # the same every time
    with pytest.raises(ValueError, match="count"):
        synthetic_intercommunalites(-1)


def test_a_synthetic_territory_is_proposed_only_where_the_catalogue_knows_it() -> None:
    territory = synthetic_intercommunalites(1)[0]
    propose = command(
        "ProposeContract",
        territory.contract_id,
        prefet(*territory.departements),
        at(2024, 3, 1),
        territory_id=territory.id,
        annual_ceiling=1_000_000 * EUR,
    )
    with pytest.raises(UnknownTerritory, match="territory"):
        decide(propose, INITIAL_STATE, DEFAULT_POLICY)  # the reference list alone: unknown
    [proposed] = decide(propose, INITIAL_STATE, DEFAULT_POLICY, TerritoryCatalogue([territory]))
    assert isinstance(proposed, ContractProposed) and proposed.territory_name == territory.name


def test_a_simulation_beyond_the_real_territories_adds_synthetic_ones() -> None:
    chosen = choose_territories("130", seed=1)
    assert len(chosen) == 130 and len({t.id for t in chosen}) == 130
    assert set(REFERENCE_TERRITORIES) <= {t.id for t in chosen}
    assert [t.id for t in chosen if t.id not in REFERENCE_TERRITORIES] == [f"0000000{n:02d}" for n in range(1, 8)]
    assert len(choose_territories("12", seed=1)) == 12  # a sample of real ones below 123
    for wrong in ("0", "-3", "many"):
        with pytest.raises(ValueError, match="territories"):
            choose_territories(wrong, seed=1)


def test_a_synthetic_contract_is_read_within_scope_like_any_other() -> None:
    from domain.actors import Actor, Role
    from domain.errors import DomainError
    from pacte.service.facade import contract_territory, may_read

    territory = synthetic_intercommunalites(615)[-1]
    assert synthetic_territory("000000615") == territory and contract_territory("cls-000000615") == territory
    assert synthetic_territory("000000000") is None and synthetic_territory("243300316") is None
    may_read(Actor(role=Role.AUDITOR, identity="ccomptes", scope=("*",)), "cls-000000615")
    may_read(prefet(*territory.departements), "cls-000000615")
    with pytest.raises(DomainError, match="scope"):
        may_read(prefet("2A" if territory.departements != ("2A",) else "01"), "cls-000000615")
    with pytest.raises(DomainError, match="no contract"):
        contract_territory("cls-999999999")
