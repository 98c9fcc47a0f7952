from domain.axes import Axis, TerritoryKind
from domain.territories import REFERENCE_TERRITORIES, TerritoryCatalogue, contract_id_for


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
