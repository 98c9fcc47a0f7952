"""How agents read things: amounts "1 500 000,00 €", dates "28 mars 2024", statuses and events in French. Code, API
and logs stay in English; these are the words on the pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.business_time import PARIS
from domain.errors import DomainError
from domain.money import format_euros

# The words an export and a page share (statuses, axes, kinds, decisions, deadlines) are written once, in the service
# layer, which may not import the web's; the pages take the very same ones.
from pacte.service.tables import AXES, DEADLINES, DECISIONS, KINDS, STATUSES

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

# DSFR badge colours: a status reads at a glance (and its word says it, colour is never alone).
STATUS_BADGES = {
    "PROPOSED": "fr-badge--info",
    "NEGOTIATING": "fr-badge--info",
    "DELIBERATED": "fr-badge--new",
    "SIGNED": "fr-badge--success",
    "IN_EXECUTION": "fr-badge--success",
    "SUSPENDED": "fr-badge--warning",
    "CLOSING": "fr-badge--new",
    "CLOSED": "",
    "TERMINATED": "fr-badge--error",
}
ROLES = {
    "prefet": "Préfet",
    "collectivite": "Collectivité",
    "commissaire": "Commissaire à la lutte contre la pauvreté",
    "auditor": "Auditeur",
    "admin": "Administrateur de Pacte",
    "system": "Calendrier",
}
PARTIES = {"etat": "État", "collectivite": "Collectivité"}
NATURES = {"new": "Nouvelle action", "reinforced": "Action renforcée"}
REINFORCEMENTS = {
    "larger_file_active": "File active élargie",
    "new_publics": "Nouveaux publics",
    "new_areas": "Nouveaux territoires",
}
DELIBERATING_BODIES = {"assemblee": "Assemblée", "commission_permanente": "Commission permanente"}
EVENTS = {
    "ContractProposed": "Contrat proposé",
    "ActionAdded": "Fiche action ajoutée",
    "ActionChanged": "Fiche action modifiée",
    "ActionRemoved": "Fiche action retirée",
    "DeliberationRecorded": "Délibération enregistrée",
    "PartySigned": "Signature d'une partie",
    "ContractSigned": "Contrat signé",
    "ProgrammeYearOpened": "Année de programmation ouverte",
    "AnnualProgrammeSet": "Programmation annuelle (ancienne forme)",
    "CommitteeReviewRecorded": "Comité de suivi",
    "AvenantProposed": "Avenant proposé",
    "AvenantSigned": "Avenant signé par une partie",
    "AvenantConcluded": "Avenant conclu",
    "AvenantWithdrawn": "Proposition d'avenant retirée",
    "ExecutionReportSubmitted": "Rapport d'exécution déposé",
    "RefactionApplied": "Réfaction appliquée",
    "MidTermEvaluationRecorded": "Évaluation à mi-parcours",
    "ContractSuspended": "Contrat suspendu",
    "ContractResumed": "Contrat repris",
    "ContractTerminated": "Contrat résilié",
    "ClosingBegun": "Clôture engagée",
    "ContractClosed": "Contrat clôturé",
    "DeadlineMissed": "Échéance manquée",
    "DeadlineMissedWithdrawn": "Échéance manquée retirée",
    "CalendarFactWithdrawn": "Fait du calendrier retiré",
    "ExecutionReportRectified": "Rapport d'exécution rectifié",
    "SignatureRectified": "Date de signature rectifiée",
}


def euros(cents: int | None) -> str:
    """1 500 000,00 € — with no-break spaces, so an amount never wraps in a table cell."""
    if cents is None:
        return "—"
    return format_euros(cents).replace(" ", "\u202f").replace("\u202f€", "\u00a0€")


def day(value: date | datetime | str | None) -> str:
    """28 mars 2024 (a moment is read in Paris: the day an agent lived it)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date() if value.tzinfo else value.date()
    first = "1er" if value.day == 1 else str(value.day)
    return f"{first} {MONTHS[value.month - 1]} {value.year}"


def moment(value: datetime | str | None) -> str:
    """28 mars 2024 à 14 h 05 (Paris)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(PARIS) if value.tzinfo else value
    return f"{day(local)} à {local.hour} h {local.minute:02d}"


PROPER_NOUNS = {"État"}  # labels that keep their capital inside a sentence


def in_sentence(word: str) -> str:
    """A label (capitalised, as DSFR headings and labels have it) inside a sentence: its first letter lowered, the rest
    as it is ("Administrateur de Pacte" -> "administrateur de Pacte"); a proper noun ("État") unchanged."""
    return word if word in PROPER_NOUNS else word[:1].lower() + word[1:]


def label(table: dict[str, str], value: Any) -> str:
    key = getattr(value, "value", value)
    return table.get(str(key), str(key))


FILTERS = {
    "euros": euros,
    "day": day,
    "moment": moment,
    "status": lambda v: label(STATUSES, v),
    "axis": lambda v: label(AXES, v),
    "kind": lambda v: label(KINDS, v),
    "role": lambda v: label(ROLES, v),
    "party": lambda v: label(PARTIES, v),
    "decision": lambda v: label(DECISIONS, v),
    "event": lambda v: label(EVENTS, v),
    "deadline": lambda v: label(DEADLINES, v),
    "status_badge": lambda v: STATUS_BADGES.get(str(getattr(v, "value", v)), ""),
    "in_sentence": in_sentence,
}

REGIONS = {
    "01": "Guadeloupe",
    "02": "Martinique",
    "03": "Guyane",
    "04": "La Réunion",
    "06": "Mayotte",
    "11": "Île-de-France",
    "24": "Centre-Val de Loire",
    "27": "Bourgogne-Franche-Comté",
    "28": "Normandie",
    "32": "Hauts-de-France",
    "44": "Grand Est",
    "52": "Pays de la Loire",
    "53": "Bretagne",
    "75": "Nouvelle-Aquitaine",
    "76": "Occitanie",
    "84": "Auvergne-Rhône-Alpes",
    "93": "Provence-Alpes-Côte d'Azur",
    "94": "Corse",
}
FILTERS["region"] = lambda v: label(REGIONS, v)


def typed_date(text: str, field: str) -> date:
    """A date typed in any form of the interface (the one path every date input goes through), or a refusal naming
    the input and the rule (``invalid_date``: JJ/MM/AAAA or AAAA-MM-JJ, a day that exists)."""
    try:
        return parse_day(text)
    except ValueError:
        raise DomainError(
            f"{field}: {text.strip()[:40]!r} is not a date (DD/MM/YYYY or YYYY-MM-DD)",
            field=field,
            code="invalid_value",
            rule="invalid_date",
            params={"value": text.strip()[:40]},
        ) from None


def parse_day(text: str) -> date:
    """A date as agents type it: 28/03/2024 (or 28-03-2024, 28.03.2024), or ISO 2024-03-28."""
    cleaned = text.strip()
    for separator in ("/", "-", "."):
        parts = cleaned.split(separator)
        if len(parts) == 3 and len(parts[0]) <= 2 and len(parts[2]) == 4 and all(p.isdigit() for p in parts):
            return date(int(parts[2]), int(parts[1]), int(parts[0]))
    return date.fromisoformat(cleaned)
