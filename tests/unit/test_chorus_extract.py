"""A Chorus accounting extract read and matched (issue 30): French CSV, the Pacte's functional domain only, each
line matched to a contract by its EJ or its third party, what is already recorded unchanged, duplicates once."""

from __future__ import annotations

import pytest

from domain.chorus import instalment_for, parse_extract, plan
from domain.errors import ValidationRefused
from tests.unit.builders import EUR, PREFET_33, at, bordeaux_in_execution

HEADER = "Numéro EJ;Poste EJ;Numéro pièce;Date;Montant;SIRET;Centre financier;Domaine fonctionnel"


def extract(*rows: str) -> str:
    return "\ufeff" + "\n".join((HEADER, *rows)) + "\n"


def test_lines_are_read_the_french_way_and_unreadable_ones_say_why() -> None:
    lines, problems = parse_extract(
        extract(
            "2103456789;1;;15/04/2024;1 400 000,00;24330031600011;0304-CDBU-DR33;0304-23",
            "2103456789;1;DP1;02/05/2024;700000.00;24330031600011;0304-CDBU-DR33;0304-23-01",
            "2103456789;1;DP2;02/05/2024;700000.00;24330031600011;0304-CDBU-DR33;0177-01",
            "21034567;1;DP3;02/05/2024;1,00;24330031600011;0304-CDBU-DR33;0304-23",
            "2103456789;1;DP4;2024-13-01;1,00;24330031600011;0304-CDBU-DR33;0304-23",
        )
    )
    assert [(x.line, x.document, x.amount, x.day.isoformat()) for x in lines] == [
        (2, "", 1_400_000 * EUR, "2024-04-15"),
        (3, "DP1", 700_000 * EUR, "2024-05-02"),
    ]
    assert [p.line for p in problems] == [4, 5, 6]
    assert "0304-23" in problems[0].reason and "10 digits" in problems[1].reason
    for unreadable, reason in (
        (HEADER + "\n" + "x" * 200_000 + "\n", "not a CSV file"),
        ("numero_ej;montant\n1;2\n", "missing columns: poste_ej, numero_piece, date"),
        ("[]", "missing columns"),
        ("", "empty file"),
    ):
        with pytest.raises(ValidationRefused) as info:
            parse_extract(unreadable)
        assert info.value.rule == "extract.unreadable" and info.value.params["reason"].startswith(reason)


def test_lines_are_matched_to_contracts_and_what_is_recorded_is_unchanged() -> None:
    c = bordeaux_in_execution()
    c.do("RecordEnvelope", PREFET_33, at(2024, 4, 2), year=2024, movement="notification", amount=1, reference="N")
    c.do("RecordCommitment", PREFET_33, at(2024, 4, 3), year=2024, ej_number="2100000001", amount=1)
    lines, _ = parse_extract(
        extract(
            "2100000001;1;;03/04/2024;0,01;24330031600011;C;0304-23",  # recorded already
            "2103456789;1;;15/04/2024;100,00;24330031600011;C;0304-23",  # Bordeaux by its SIREN
            "2103456789;1;DP1;02/05/2024;50,00;24330031600011;C;0304-23",  # on the line above's EJ
            "2103456789;1;DP1;02/05/2024;50,00;24330031600011;C;0304-23",  # the same line again
            "2109999999;1;DP2;02/05/2024;50,00;24330031600011;C;0304-23",  # unknown EJ
            "2108888888;1;;02/05/2024;50,00;21750001600019;C;0304-23",  # Paris: no contract here
        )
    )
    planned = plan(lines, {c.state.contract_id: c.state})
    assert [(p.outcome, p.kind) for p in planned] == [
        ("unchanged", None),
        ("planned", "RecordCommitment"),
        ("planned", "RecordPayment"),
        ("unchanged", None),
        ("unmatched", None),
        ("unmatched", None),
    ]
    assert planned[1].fields == {"year": 2024, "ej_number": "2103456789", "amount": 100 * EUR}
    assert planned[1].contract_id == "cls-243300316" and planned[2].key == "chorus-2103456789-1-DP1"
    assert "2109999999" in planned[4].reason and "217500016" in planned[5].reason


def test_a_payment_is_the_balance_once_the_year_is_reported_else_the_advance() -> None:
    names = [("avance", "signature"), ("solde", "execution_report")]
    c = bordeaux_in_execution()
    assert instalment_for(c.state, 2024, names) == "avance"
