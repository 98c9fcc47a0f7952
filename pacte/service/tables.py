"""Exports for people (issue 26, item 3): the contracts, their fiches' money by year and financeur, their deadlines,
their committee reviews and execution reports, as tables a French spreadsheet opens as they are.

CSV as French Excel reads it: `;` between cells, a UTF-8 byte order mark (without it Excel reads the accents as
Windows-1252), CRLF line ends, dates JJ/MM/AAAA and amounts in euros as French decimal numbers ("1500000,00": no
grouping, a decimal comma), which Excel and LibreOffice read as numbers. Text that a spreadsheet would run as a formula
is neutralised as in the event export. The event export (one row per event, for verification) is unchanged beside
these (pacte/service/exports.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.actors import Actor
from domain.business_time import PARIS
from domain.deadlines import Standing, deadline_standings
from domain.policy import Policy
from domain.state import ContractState
from pacte.service.exports import neutralised

# The words of the pages and of the exports alike: written here, since the service may not import the web, and
# taken by pacte/web/formats.py as they are.
STATUSES = {
    "NONE": "—",
    "PROPOSED": "Proposé",
    "NEGOTIATING": "En négociation",
    "DELIBERATED": "Délibéré",
    "SIGNED": "Signé",
    "IN_EXECUTION": "En exécution",
    "SUSPENDED": "Suspendu",
    "CLOSING": "En clôture",
    "CLOSED": "Clôturé",
    "TERMINATED": "Résilié",
}
AXES = {
    "ENFANCE": "Enfance",
    "EMPLOI": "Emploi",
    "GRANDE_EXCLUSION": "Grande exclusion",
    "TRANSITION_ECOLOGIQUE": "Transition écologique",
}
KINDS = {"metropole": "Métropole", "departement": "Département"}
DECISIONS = {"CONTINUE": "Poursuivre", "ADJUST": "Ajuster", "SUSPEND": "Suspendre"}
DEADLINES = {
    "signature": "Signature",
    "committee_review": "Comité de suivi",
    "execution_report": "Rapport d'exécution",
    "renewal": "Avenant de renouvellement",
    "mid_term_evaluation": "Évaluation à mi-parcours",
    "final_report": "Rapport final",
}
STANDINGS = {Standing.TO_COME: "à venir", Standing.MISSED: "manquée", Standing.MET_LATE: "remplie en retard"}


@dataclass(frozen=True)
class Euros:
    """An amount in cents, written in euros only here, at the edge."""

    cents: int


Cell = str | int | date | Euros | None


@dataclass(frozen=True)
class Table:
    name: str
    filename: str  # what the download is called
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


def french_number(cents: int) -> str:
    """150000000 → "1500000,00": what a French spreadsheet reads as the number 1 500 000."""
    whole, frac = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole},{frac:02d}"


def french_day(value: date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, Euros):
        return french_number(value.cents)
    if isinstance(value, datetime):
        return french_day(value.astimezone(PARIS).date() if value.tzinfo else value.date())
    if isinstance(value, date):
        return french_day(value)
    if isinstance(value, int):
        return str(value)
    return str(neutralised(value))


def french_csv(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(_cell(value) for value in row)
    return "\ufeff" + buffer.getvalue()


def _contracts(states: Sequence[ContractState], policy: Policy, today: date) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for s in states:
        standings = deadline_standings(s, policy, today)
        rows.append(
            (
                s.contract_id,
                s.territory_id,
                s.territory_name,
                KINDS.get(s.kind.value, s.kind.value) if s.kind else None,
                s.region,
                ", ".join(s.departements),
                STATUSES.get(s.status.value, s.status.value),
                s.current_year,
                Euros(s.annual_ceiling),
                s.in_force_from,
                len(s.actions),
                sum(1 for d in standings if d.standing is Standing.MISSED),
                s.last_at,
            )
        )
    columns = (
        "Contrat",
        "Territoire (identifiant)",
        "Territoire",
        "Type",
        "Région",
        "Départements",
        "Statut",
        "Année en cours",
        "Plafond annuel (€)",
        "En vigueur le",
        "Fiches actions",
        "Échéances manquées",
        "Dernier fait le",
    )
    return Table("contracts", "contrats.csv", columns, rows)


def _actions(states: Sequence[ContractState], policy: Policy, today: date) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for s in states:
        for action_id, action in sorted(s.actions.items()):
            for year, amounts in sorted(action.amounts.items()):
                for financeur, cents in (
                    ("État", amounts.etat),
                    ("Collectivité", amounts.collectivite),
                    ("Partenaires", amounts.partenaires),
                ):
                    rows.append(
                        (
                            s.contract_id,
                            s.territory_name,
                            action_id,
                            AXES.get(action.axis.value, action.axis.value),
                            action.title,
                            year,
                            financeur,
                            Euros(cents),
                        )
                    )
    columns = ("Contrat", "Territoire", "Fiche", "Axe", "Intitulé", "Année", "Financeur", "Montant (€)")
    return Table("actions", "fiches-actions.csv", columns, rows)


def _deadlines(states: Sequence[ContractState], policy: Policy, today: date) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for s in states:
        for d in deadline_standings(s, policy, today):
            rows.append(
                (
                    s.contract_id,
                    s.territory_name,
                    DEADLINES.get(d.kind.value, d.kind.value),
                    d.year,
                    d.due,
                    STANDINGS[d.standing],
                    d.days if d.standing is not Standing.TO_COME else None,
                    d.met_on,
                )
            )
    columns = (
        "Contrat",
        "Territoire",
        "Échéance",
        "Année",
        "Date limite",
        "Situation",
        "Jours de retard",
        "Remplie le",
    )
    return Table("deadlines", "echeances.csv", columns, rows)


def _reviews(states: Sequence[ContractState], policy: Policy, today: date) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for s in states:
        for year, record in sorted(s.years.items()):
            for review in record.reviews:
                rows.append(
                    (
                        s.contract_id,
                        s.territory_name,
                        "Comité de suivi",
                        year,
                        review.review_date,
                        DECISIONS.get(review.decision.value, review.decision.value),
                        review.findings,
                        Euros(sum(review.spending.values())),
                        None,
                        None,
                    )
                )
            if record.report is not None:
                report = record.report
                rows.append(
                    (
                        s.contract_id,
                        s.territory_name,
                        "Rapport d'exécution",
                        year,
                        report.submitted_at,
                        None,
                        None,
                        Euros(sum(report.etat_spent.values())),
                        Euros(sum(report.collectivite_spent.values())),
                        Euros(record.recoverable_etat),
                    )
                )
    columns = (
        "Contrat",
        "Territoire",
        "Type",
        "Année",
        "Date",
        "Décision",
        "Constats",
        "État dépensé (€)",
        "Collectivité dépensé (€)",
        "État à reverser (€)",
    )
    return Table("reviews", "comites-et-rapports.csv", columns, rows)


Builder = Callable[[Sequence[ContractState], Policy, date], Table]
TABLES: dict[str, Builder] = {
    "contracts": _contracts,
    "actions": _actions,
    "deadlines": _deadlines,
    "reviews": _reviews,
}


def build(name: str, states: Sequence[ContractState], policy: Policy, today: date) -> Table:
    return TABLES[name](states, policy, today)


def states_of(summaries: Iterable[dict[str, Any]], contract_id: str | None = None) -> list[ContractState]:
    """The read model's states (``Pacte.summaries``: already filtered by scope), one contract's if named."""
    return [
        ContractState.model_validate(row["state"])
        for row in summaries
        if contract_id is None or row["contract_id"] == contract_id
    ]


async def people_table(service: Any, actor: Actor, name: str, contract_id: str | None = None) -> Table:
    """The table ``name`` of the contracts ``actor`` may read (of one contract, checked first, if named), from the
    read model: no workflow is asked."""
    from pacte.service.facade import may_read, policy_now

    if contract_id is not None:
        may_read(actor, contract_id)
    states = states_of(await service.summaries(actor), contract_id)
    return build(name, states, policy_now(), datetime.now(PARIS).date())
