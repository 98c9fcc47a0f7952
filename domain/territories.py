"""Every territory that can hold a contract: who signs, its kind, région and départements.

Métropoles are identified by their SIREN (DOMAIN.md §6). Département-level collectivités are identified by
``D`` + their INSEE code(s) (``D33``, ``D2A2B`` for the Collectivité de Corse) until their SIREN is checked against
SIRENE; Ville de Paris and the Métropole de Lyon have a known SIREN and use it. Further intercommunalités are
registered by operators through a command (``RegisterTerritory``), never by a code change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field

from domain.axes import AXES_BY_KIND, Axis, TerritoryKind
from domain.departements_data import DEPARTEMENTS

TERRITORY_ID = re.compile(r"^(\d{9}|D[0-9AB]{2,6})$")


class Territory(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=TERRITORY_ID.pattern, description="SIREN, or D + INSEE code(s) for a département")
    name: str = Field(min_length=1, max_length=200)
    kind: TerritoryKind
    region: str = Field(pattern=r"^\d{2}$")
    departements: tuple[str, ...] = Field(min_length=1)
    instruction: str = Field(description="The DGCS instruction under which it signs")

    @property
    def axes(self) -> tuple[Axis, ...]:
        return AXES_BY_KIND[self.kind]

    @property
    def contract_id(self) -> str:
        return contract_id_for(self.id)


MAX_ATTEMPTS = 9
CONTRACT_ID_PATTERN = r"^cls-[0-9a-z]{3,9}(-[2-9])?$"


def contract_id_for(territory_id: str, attempt: int = 1) -> str:
    """Stable, meaningful workflow and stream id: ``cls-<siren>`` (lower case for département codes); a territory's
    later attempts (its contract ended — résilié or closed — proposed again: domain/attempts.py) are ``cls-<siren>-2`` … ``-9``."""
    base = f"cls-{territory_id.lower()}"
    return base if attempt == 1 else f"{base}-{attempt}"


def attempt_of(contract_id: str) -> tuple[str, int]:
    """``cls-d33-2`` → (``cls-d33``, 2): the territory's first contract id, and the attempt."""
    base, _, suffix = contract_id.rpartition("-")
    if base.count("-") == 1 and suffix.isdigit() and len(suffix) == 1:
        return base, int(suffix)
    return contract_id, 1


INSTRUCTION_METROPOLES = "DGCS/SD1B/2023/168"
INSTRUCTION_DEPARTEMENTS = "DGCS/SD1B/2023/169"

# name, SIREN, région, départements — from DOMAIN.md §6 (to be checked against INSEE SIRENE).
_METROPOLES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Métropole du Grand Paris", "200054781", "11", ("75", "92", "93", "94")),
    ("Métropole d'Aix-Marseille-Provence", "200054807", "93", ("13",)),
    ("Métropole Européenne de Lille", "200093201", "32", ("59",)),
    ("Bordeaux Métropole", "243300316", "75", ("33",)),
    ("Toulouse Métropole", "243100518", "76", ("31",)),
    ("Nantes Métropole", "244400404", "52", ("44",)),
    ("Métropole Nice Côte d'Azur", "200030195", "93", ("06",)),
    ("Eurométropole de Strasbourg", "246700488", "44", ("67",)),
    ("Grenoble-Alpes Métropole", "200040715", "84", ("38",)),
    ("Rennes Métropole", "243500139", "53", ("35",)),
    ("Montpellier Méditerranée Métropole", "243400017", "76", ("34",)),
    ("Métropole Rouen Normandie", "200023414", "28", ("76",)),
    ("Saint-Étienne Métropole", "244200770", "84", ("42",)),
    ("Métropole Toulon-Provence-Méditerranée", "248300543", "93", ("83",)),
    ("Brest Métropole", "242900314", "53", ("29",)),
    ("Orléans Métropole", "244500468", "24", ("45",)),
    ("Dijon Métropole", "242100410", "27", ("21",)),
    ("Clermont Auvergne Métropole", "246300701", "84", ("63",)),
    ("Métropole du Grand Nancy", "245400676", "44", ("54",)),
    ("Tours Métropole Val de Loire", "243700754", "24", ("37",)),
    ("Metz Métropole", "200039865", "44", ("57",)),
    # Named by the instruction although not legal métropoles.
    ("CA Amiens Métropole", "248000531", "32", ("80",)),
    ("CU Perpignan Méditerranée Métropole", "200027183", "76", ("66",)),
)

# Collectivités that hold the social competences of several départements, or that have a known SIREN.
_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Collectivité de Corse", "D2A2B", ("2A", "2B")),
    ("Collectivité européenne d'Alsace", "D6768", ("67", "68")),
    ("Ville de Paris", "217500016", ("75",)),
    ("Collectivité territoriale de Martinique", "D972", ("972",)),
    ("Collectivité territoriale de Guyane", "D973", ("973",)),
)


def _build() -> dict[str, Territory]:
    region_of = {code: region for code, region, _ in DEPARTEMENTS}
    out: dict[str, Territory] = {}
    for name, siren, region, deps in _METROPOLES:
        out[siren] = Territory(
            id=siren,
            name=name,
            kind=TerritoryKind.METROPOLE,
            region=region,
            departements=deps,
            instruction=INSTRUCTION_METROPOLES,
        )
    grouped: set[str] = set()
    for name, tid, deps in _GROUPS:
        grouped.update(deps)
        out[tid] = Territory(
            id=tid,
            name=name,
            kind=TerritoryKind.DEPARTEMENT,
            region=region_of[deps[0]],
            departements=deps,
            instruction=INSTRUCTION_DEPARTEMENTS,
        )
    for code, region, name in DEPARTEMENTS:
        if code in grouped:
            continue
        tid = f"D{code}"
        out[tid] = Territory(
            id=tid,
            name=f"Département {name}",
            kind=TerritoryKind.DEPARTEMENT,
            region=region,
            departements=(code,),
            instruction=INSTRUCTION_DEPARTEMENTS,
        )
    # The Métropole de Lyon is a collectivité à statut particulier: it signs under the départements instruction,
    # alongside the Département du Rhône (which keeps D69).
    out["200046977"] = Territory(
        id="200046977",
        name="Métropole de Lyon",
        kind=TerritoryKind.DEPARTEMENT,
        region="84",
        departements=("69",),
        instruction=INSTRUCTION_DEPARTEMENTS,
    )
    return out


REFERENCE_TERRITORIES: Mapping[str, Territory] = _build()

SYNTHETIC_PREFIX = "0"  # no real SIREN starts with 0: a synthetic territory can never be mistaken for a real one


def synthetic_intercommunalites(count: int) -> list[Territory]:
    """``count`` made-up intercommunalités for simulations and benchmarks beyond the 123 real territories (other
    State programmes count thousands of contracts): ids ``000000001``…, spread over the départements in turn, each
    signing the four-axis contract under the métropoles' instruction, as CA Amiens Métropole does."""
    if not 0 <= count <= 99_999_999:
        raise ValueError(f"count: {count} synthetic territories is outside 0–99 999 999")
    return [_synthetic(n) for n in range(1, count + 1)]


def synthetic_territory(territory_id: str) -> Territory | None:
    """The synthetic intercommunalité with this id, or None. For reading what a simulation recorded: the decider
    never knows these unless a simulation's workflow is told of them (a real programme can hold none)."""
    if len(territory_id) == 9 and territory_id.isdigit() and territory_id.startswith(SYNTHETIC_PREFIX):
        return _synthetic(int(territory_id)) if int(territory_id) >= 1 else None
    return None


def _synthetic(n: int) -> Territory:
    code, region, _ = DEPARTEMENTS[(n - 1) % len(DEPARTEMENTS)]
    return Territory(
        id=f"{SYNTHETIC_PREFIX}{n:08d}",
        name=f"Intercommunalité fictive n° {n}",
        kind=TerritoryKind.METROPOLE,
        region=region,
        departements=(code,),
        instruction=INSTRUCTION_METROPOLES,
    )


class TerritoryCatalogue:
    """The reference territories plus those registered by operators (folded from TerritoryRegistered events)."""

    def __init__(self, extra: Iterable[Territory] = ()) -> None:
        self._by_id: dict[str, Territory] = dict(REFERENCE_TERRITORIES)
        for territory in extra:
            self._by_id[territory.id] = territory

    def get(self, territory_id: str) -> Territory | None:
        return self._by_id.get(territory_id)

    def __contains__(self, territory_id: object) -> bool:
        return territory_id in self._by_id

    def all(self) -> list[Territory]:
        return sorted(self._by_id.values(), key=lambda t: (t.kind, t.id))

    def with_registered(self, territory: Territory) -> TerritoryCatalogue:
        return TerritoryCatalogue([*self._by_id.values(), territory])
