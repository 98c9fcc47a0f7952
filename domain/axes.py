"""The Pacte's axes and the kinds of territory that sign a contract."""

from __future__ import annotations

from enum import StrEnum


class Axis(StrEnum):
    ENFANCE = "ENFANCE"
    EMPLOI = "EMPLOI"
    GRANDE_EXCLUSION = "GRANDE_EXCLUSION"
    TRANSITION_ECOLOGIQUE = "TRANSITION_ECOLOGIQUE"


class TerritoryKind(StrEnum):
    METROPOLE = "metropole"
    DEPARTEMENT = "departement"


# Métropoles cover the four axes; départements three (employment goes to a France Travail convention).
AXES_BY_KIND: dict[TerritoryKind, tuple[Axis, ...]] = {
    TerritoryKind.METROPOLE: (Axis.ENFANCE, Axis.EMPLOI, Axis.GRANDE_EXCLUSION, Axis.TRANSITION_ECOLOGIQUE),
    TerritoryKind.DEPARTEMENT: (Axis.ENFANCE, Axis.GRANDE_EXCLUSION, Axis.TRANSITION_ECOLOGIQUE),
}
