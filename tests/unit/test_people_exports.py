"""Exports for people (issue 26, item 3): each table read back as French Excel reads a CSV (`;`, a UTF-8 BOM, dates
JJ/MM/AAAA, amounts "1500000,00" as numbers), its amounts those of the contract's state, and no cell a formula."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from domain.deadlines import Standing, deadline_standings
from domain.policy import DEFAULT_POLICY
from domain.state import ContractState
from pacte.service import tables
from pacte.web import formats
from tests.unit.test_deadline_standing import TODAY, bordeaux

FORMULA = ("=", "+", "-", "@", "\t", "\r")


def read_as_french_excel(data: str) -> list[dict[str, str]]:
    """What a spreadsheet configured for France reads: the BOM says UTF-8, `;` separates the cells."""
    assert data.startswith("\ufeff"), "no UTF-8 BOM: Excel would read the accents as Windows-1252"
    return list(csv.DictReader(io.StringIO(data.removeprefix("\ufeff"), newline=""), delimiter=";"))


def number(cell: str) -> Decimal:
    """A French decimal number as Excel reads it: digits, a decimal comma, no grouping, maybe a minus sign."""
    assert cell.replace("-", "", 1).replace(",", "", 1).isdigit(), f"{cell!r} is not a number Excel reads"
    return Decimal(cell.replace(",", "."))


def french_day(cell: str) -> date:
    d, m, y = cell.split("/")
    assert len(d) == 2 and len(m) == 2 and len(y) == 4, cell
    return date(int(y), int(m), int(d))


def csv_of(name: str, states: list[ContractState]) -> list[dict[str, str]]:
    return read_as_french_excel(tables.french_csv(tables.build(name, states, DEFAULT_POLICY, TODAY)))


def test_the_contracts_table() -> None:
    state = bordeaux()
    [row] = csv_of("contracts", [state])
    assert row["Contrat"] == state.contract_id and row["Territoire"] == "Bordeaux Métropole"
    assert row["Statut"] == formats.STATUSES[state.status.value]
    assert number(row["Plafond annuel (€)"]) * 100 == state.annual_ceiling
    assert state.in_force_from is not None and french_day(row["En vigueur le"]) == state.in_force_from
    missed = sum(1 for d in deadline_standings(state, DEFAULT_POLICY, TODAY) if d.standing is Standing.MISSED)
    assert int(row["Échéances manquées"]) == missed > 0


def test_the_fiches_by_year_and_financeur_in_euros() -> None:
    state = bordeaux()
    rows = csv_of("actions", [state])
    expected = {
        (action_id, year, financeur): cents
        for action_id, action in state.actions.items()
        for year, amounts in action.amounts.items()
        for financeur, cents in (
            ("État", amounts.etat),
            ("Collectivité", amounts.collectivite),
            ("Partenaires", amounts.partenaires),
        )
    }
    read = {(r["Fiche"], int(r["Année"]), r["Financeur"]): number(r["Montant (€)"]) * 100 for r in rows}
    assert read == expected and len(rows) == len(expected)
    assert {r["Axe"] for r in rows} <= set(formats.AXES.values())


def test_the_deadlines_table_is_the_domains_list() -> None:
    state = bordeaux()
    rows = csv_of("deadlines", [state])
    standings = deadline_standings(state, DEFAULT_POLICY, TODAY)
    assert [(r["Échéance"], french_day(r["Date limite"])) for r in rows] == [
        (formats.DEADLINES[d.kind.value], d.due) for d in standings
    ]
    assert {r["Situation"] for r in rows} <= {"à venir", "manquée", "remplie en retard"}


def test_the_reviews_and_reports_table() -> None:
    state = bordeaux()
    rows = csv_of("reviews", [state])
    reviews = [r for y in state.years.values() for r in y.reviews]
    assert reviews, "Bordeaux had its 2024 committee"
    committee = [r for r in rows if r["Type"] == "Comité de suivi"]
    assert [(int(r["Année"]), french_day(r["Date"])) for r in committee] == [(r.year, r.review_date) for r in reviews]
    assert all(
        number(r["État dépensé (€)"]) * 100 == sum(v.spending.values()) for r, v in zip(committee, reviews, strict=True)
    )


@pytest.mark.parametrize("name", tables.TABLES)
def test_no_cell_is_a_formula(name: str) -> None:
    hostile = bordeaux().model_copy(update={"territory_name": '=HYPERLINK("http://evil.example","x")'})
    rows = csv_of(name, [hostile])
    assert rows
    for row in rows:
        for column, cell in row.items():
            if column.endswith("(€)"):
                assert cell == "" or number(cell) is not None  # a number (negative too) or nothing, never text
            else:
                assert not cell.startswith(FORMULA), (column, cell)


def test_the_labels_are_the_pages() -> None:
    # The service cannot import the web's words (tests/unit/test_architecture.py): the web takes the service's, the
    # very same objects (a copy would drift).
    assert tables.STATUSES is formats.STATUSES and tables.AXES is formats.AXES
    assert tables.DEADLINES is formats.DEADLINES and tables.DECISIONS is formats.DECISIONS
    assert tables.KINDS is formats.KINDS


def test_amounts_and_dates_as_french_excel_reads_them() -> None:
    assert tables.french_number(150_000_000) == "1500000,00"
    assert tables.french_number(-5) == "-0,05"
    assert tables.french_day(date(2024, 3, 8)) == "08/03/2024"
