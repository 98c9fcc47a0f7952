"""Following the money (issue 30): the État's envelope of a year, its commitments (Chorus EJ) and its payments, each a
fact decided by rules and dated in business time; paid ≤ committed ≤ envelope available ≤ notified ≤ programmed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.commands import COMMAND_ADAPTER
from domain.errors import DomainError, LifecycleViolation
from domain.money_trail import trail
from tests.unit.builders import (
    BORDEAUX_COLL,
    COMMISSAIRE_75,
    EUR,
    PREFET_33,
    SYSTEM,
    Contract,
    at,
    bordeaux_in_2025,
    bordeaux_in_execution,
)

PROGRAMMED = 1_400_000 * EUR  # Bordeaux's État amount, every year
EJ = "2103456789"


def notified(c: Contract, euros: int = 1_400_000, year: int = 2024) -> Contract:
    c.do(
        "RecordEnvelope",
        PREFET_33,
        at(2024, 4, 2),
        year=year,
        movement="notification",
        amount=euros * EUR,
        reference="Notification DDETS 33 du 2 avril 2024",
    )
    return c


def committed(c: Contract, euros: int = 1_400_000, ej: str = EJ) -> Contract:
    c.do("RecordCommitment", PREFET_33, at(2024, 4, 15), year=2024, ej_number=ej, amount=euros * EUR)
    return c


def advanced(c: Contract, euros: int = 700_000) -> Contract:
    c.do(
        "RecordPayment",
        PREFET_33,
        at(2024, 5, 2),
        ej_number=EJ,
        instalment="avance",
        amount=euros * EUR,
        document="DP1",
    )
    return c


def ready() -> Contract:
    return advanced(committed(notified(bordeaux_in_execution())))


def reported(spent_euros: int = 1_400_000) -> Contract:
    c = ready()
    c.do(
        "RecordCommitteeReview",
        COMMISSAIRE_75,
        at(2024, 11, 20),
        year=2024,
        review_date=at(2024, 11, 18).date(),
        findings="ok",
        decision="CONTINUE",
    )
    c.do("OpenProgrammeYear", SYSTEM, at(2025, 1, 1), year=2025)
    share = {"A1": 400_000 * EUR, "A2": 300_000 * EUR, "A3": 500_000 * EUR, "A4": 200_000 * EUR}
    scale = {k: v * spent_euros // 1_400_000 for k, v in share.items()}
    scale["A3"] += spent_euros * EUR - sum(scale.values())  # to the cent
    c.do("SubmitExecutionReport", BORDEAUX_COLL, at(2025, 2, 1), year=2024, etat_spent=scale, collectivite_spent=scale)
    return c


def test_the_envelope_moves_by_notification_freeze_release_and_cancellation() -> None:
    c = notified(bordeaux_in_execution())
    for movement, euros in (("freeze", 100_000), ("release", 40_000), ("cancellation", 80_000)):
        c.do(
            "RecordEnvelope",
            PREFET_33,
            at(2024, 4, 25),
            year=2024,
            movement=movement,
            amount=euros * EUR,
            reference="Décret n° 2024-124 du 21 février 2024",
        )
    year = c.state.year(2024)
    # 60 000 € stayed frozen; the cancellation took them first, then 20 000 € of free credits.
    assert (year.envelope_notified, year.envelope_frozen, year.envelope_cancelled) == (PROGRAMMED, 0, 80_000 * EUR)
    assert year.envelope_available == 1_320_000 * EUR
    assert c.events[-1].source is None and c.events[-1].reference.startswith("Décret")  # type: ignore[union-attr]


def test_commitment_and_payments_are_dated_facts_on_the_year_of_their_commitment() -> None:
    c = reported()
    c.do(
        "RecordPayment",
        PREFET_33,
        at(2025, 3, 3),
        ej_number=EJ,
        instalment="solde",
        amount=700_000 * EUR,
        document="DP2",
    )
    year = c.state.year(2024)  # paid in 2025, counted against 2024, the year of its commitment
    assert year.committed == PROGRAMMED and year.paid == PROGRAMMED
    assert [p.paid_on.isoformat() for p in year.payments] == ["2024-05-02", "2025-03-03"]
    assert year.commitments[0].committed_on.isoformat() == "2024-04-15"
    assert c.state.year(2025).paid == 0


def _envelope(movement: str, euros: int) -> dict[str, Any]:
    return {"year": 2024, "movement": movement, "amount": euros * EUR, "reference": "Décret"}


def _pay(instalment: str, euros: int, ej: str = EJ, document: str = "DP9") -> dict[str, Any]:
    return {"ej_number": ej, "instalment": instalment, "amount": euros * EUR, "document": document}


Stage = Callable[[], Contract]
REFUSALS: list[tuple[str, Stage, str, dict[str, Any], str]] = [
    # (case, stage, command, fields, rule)
    (
        "envelope above the programme",
        bordeaux_in_execution,
        "RecordEnvelope",
        _envelope("notification", 1_400_001),
        "envelope.above_programme",
    ),
    (
        "zero envelope",
        bordeaux_in_execution,
        "RecordEnvelope",
        _envelope("notification", 0),
        "trail.amount_not_positive",
    ),
    (
        "freeze of committed credits",
        lambda: committed(notified(bordeaux_in_execution()), 1_000_000),
        "RecordEnvelope",
        _envelope("freeze", 400_001),
        "envelope.freeze_above_free",
    ),
    (
        "release of more than frozen",
        lambda: notified(bordeaux_in_execution()),
        "RecordEnvelope",
        _envelope("release", 1),
        "envelope.release_above_frozen",
    ),
    (
        "cancellation of committed credits",
        ready,
        "RecordEnvelope",
        _envelope("cancellation", 1),
        "envelope.cancellation_above_uncommitted",
    ),
    (
        "year outside the programme",
        bordeaux_in_execution,
        "RecordEnvelope",
        {**_envelope("notification", 1), "year": 2028},
        "trail.year_outside",
    ),
    (
        "commitment without envelope",
        bordeaux_in_execution,
        "RecordCommitment",
        {"year": 2024, "ej_number": EJ, "amount": 1},
        "commitment.above_envelope",
    ),
    (
        "commitment above the envelope",
        lambda: notified(bordeaux_in_execution(), 1_000_000),
        "RecordCommitment",
        {"year": 2024, "ej_number": EJ, "amount": 1_000_000 * EUR + 1},
        "commitment.above_envelope",
    ),
    (
        "same EJ twice",
        lambda: committed(notified(bordeaux_in_execution()), 100),
        "RecordCommitment",
        {"year": 2024, "ej_number": EJ, "amount": 1},
        "commitment.ej_known",
    ),
    ("payment on an unknown EJ", ready, "RecordPayment", _pay("avance", 1, ej="2100000000"), "payment.unknown_ej"),
    ("payment document twice", ready, "RecordPayment", _pay("avance", 1, document="DP1"), "payment.document_known"),
    (
        "payment above its commitment",
        lambda: committed(notified(bordeaux_in_execution()), 100),
        "RecordPayment",
        _pay("avance", 101),
        "payment.above_commitment",
    ),
    ("an instalment the convention lacks", ready, "RecordPayment", _pay("acompte", 1), "payment.unknown_instalment"),
    ("advance beyond half", ready, "RecordPayment", _pay("avance", 1), "payment.above_instalment"),
    ("balance before the report", ready, "RecordPayment", _pay("solde", 1), "payment.before_report"),
    (
        "balance above the spending reported",
        lambda: reported(1_000_000),
        "RecordPayment",
        _pay("solde", 300_001),
        "payment.above_used",
    ),
]


@pytest.mark.parametrize(("case", "stage", "kind", "fields", "expected"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_name_their_rule_and_record_nothing(
    case: str, stage: Stage, kind: str, fields: dict[str, Any], expected: str
) -> None:
    c = stage()
    before = c.state
    with pytest.raises(DomainError) as info:
        c.do(kind, PREFET_33, at(2025, 3, 10), **fields)
    assert info.value.rule == expected, (case, info.value)
    assert c.state == before


def test_an_envelope_below_the_programme_needs_an_avenant_financier_before_the_balance() -> None:
    c = bordeaux_in_execution()
    notified(c, 1_000_000)
    committed(c, 1_000_000)
    advanced(c, 500_000)
    c.do(
        "RecordCommitteeReview",
        COMMISSAIRE_75,
        at(2024, 11, 20),
        year=2024,
        review_date=at(2024, 11, 18).date(),
        findings="ok",
        decision="CONTINUE",
    )
    spent = {"A1": 100_000 * EUR, "A2": 100_000 * EUR, "A3": 100_000 * EUR, "A4": 100_000 * EUR}
    c.do("OpenProgrammeYear", SYSTEM, at(2025, 1, 1), year=2025)
    c.do("SubmitExecutionReport", BORDEAUX_COLL, at(2025, 2, 1), year=2024, etat_spent=spent, collectivite_spent=spent)
    with pytest.raises(LifecycleViolation) as info:
        c.do("RecordPayment", PREFET_33, at(2025, 3, 3), **_pay("solde", 1))
    assert info.value.rule == "payment.programme_above_envelope"
    assert info.value.params["available_cents"] == 1_000_000 * EUR


def test_a_suspended_contract_is_not_paid() -> None:
    c = committed(notified(bordeaux_in_execution()))
    c.do("Suspend", COMMISSAIRE_75, at(2024, 6, 1), reason="Contrôle")
    with pytest.raises(LifecycleViolation) as info:
        c.do("RecordPayment", PREFET_33, at(2024, 6, 2), **_pay("avance", 1))
    assert info.value.rule == "stage.not_now"


def test_the_collectivite_records_no_state_money() -> None:
    c = notified(bordeaux_in_execution())
    with pytest.raises(DomainError) as info:
        c.do("RecordCommitment", BORDEAUX_COLL, at(2024, 5, 1), year=2024, ej_number=EJ, amount=1)
    assert info.value.rule == "role.not_allowed"


@pytest.mark.parametrize("ej", ["210345678", "21034567890", "21034X6789", "2103 456789", ""])
def test_a_chorus_ej_number_is_ten_digits(ej: str) -> None:
    body = {
        "type": "RecordCommitment",
        "contract_id": "cls-243300316",
        "actor": PREFET_33.model_dump(),
        "request_id": "r",
        "at": at(2024, 5, 1),
        "year": 2024,
        "ej_number": ej,
        "amount": 1,
    }
    with pytest.raises(ValidationError) as info:
        COMMAND_ADAPTER.validate_python(body)
    assert {e["type"] for e in info.value.errors()} & {"ej.format", "string_too_short"}
    assert COMMAND_ADAPTER.validate_python({**body, "ej_number": "2103456789"}).ej_number == "2103456789"  # type: ignore[union-attr]


def test_the_reconciliation_reads_every_step_and_states_the_gaps() -> None:
    c = reported(1_000_000)
    rows = {r.year: r for r in trail(c.state)}
    y = rows[2024]
    assert (y.programmed, y.notified, y.available, y.committed, y.paid, y.used) == (
        PROGRAMMED,
        PROGRAMMED,
        PROGRAMMED,
        PROGRAMMED,
        700_000 * EUR,
        1_000_000 * EUR,
    )
    assert y.payments_recorded and y.gaps == ("paid_below_used",)
    # A year with no payment recorded says so, never a silent 0.
    assert not rows[2025].payments_recorded and "payments_not_recorded" in rows[2025].gaps


def test_the_reconciliation_of_a_contract_without_money_facts_derives_as_before() -> None:
    c = bordeaux_in_2025()
    y = {r.year: r for r in trail(c.state)}[2024]
    assert not y.payments_recorded and y.paid is None and y.paid_derived == PROGRAMMED
    assert set(y.gaps) == {"envelope_not_notified", "payments_not_recorded"}


MOVES = st.lists(
    st.tuples(
        st.sampled_from(["notification", "freeze", "release", "cancellation", "commit", "avance"]),
        st.integers(1, 800_000),
    ),
    max_size=14,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MOVES)
def test_walk_invariants_paid_committed_available_notified_programmed(moves: list[tuple[str, int]]) -> None:
    c = bordeaux_in_execution()
    for i, (move, euros) in enumerate(moves):
        when = at(2024, 4, 1 + i)
        try:
            if move == "commit":
                c.do("RecordCommitment", PREFET_33, when, year=2024, ej_number=f"21000000{i:02d}", amount=euros * EUR)
            elif move == "avance":
                ejs = [x.ej_number for x in c.state.year(2024).commitments]
                if ejs:
                    c.do("RecordPayment", PREFET_33, when, **_pay("avance", euros, ej=ejs[-1], document=f"DP{i}"))
            else:
                c.do("RecordEnvelope", PREFET_33, when, **_envelope(move, euros))
        except DomainError:
            pass
        y = c.state.year(2024)
        assert 0 <= y.paid <= y.committed <= y.envelope_available <= y.envelope_notified <= PROGRAMMED
        assert y.envelope_frozen >= 0 and y.paid <= PROGRAMMED // 2
        assert all(y.paid_on(x.ej_number) <= x.amount for x in y.commitments)
        gaps = set(trail(c.state)[0].gaps)
        assert not gaps & {"paid_above_committed", "committed_above_available", "paid_above_payable"}


def test_a_2025_freeze_and_release_and_a_2026_envelope_held_at_its_2025_level() -> None:
    """README, "Following the money": the 2025–2026 example, typed on its days."""
    c = bordeaux_in_2025()
    for day, year, movement, euros in (
        (at(2025, 4, 10), 2025, "notification", 1_200_000),
        (at(2025, 5, 5), 2025, "freeze", 100_000),
        (at(2025, 11, 20), 2025, "release", 100_000),
        (at(2026, 2, 20), 2026, "notification", 1_200_000),
    ):
        c.do("RecordEnvelope", PREFET_33, day, year=year, movement=movement, amount=euros * EUR, reference="LFI")
    rows = {r.year: r for r in trail(c.state)}
    assert (rows[2025].notified, rows[2025].frozen, rows[2025].available) == (120_000_000, 0, 120_000_000)
    assert rows[2026].available == rows[2025].available < rows[2026].payable == PROGRAMMED
    assert "envelope_below_programme" in rows[2026].gaps
    assert [e.occurred_at.date().isoformat() for e in c.events if e.type == "EnvelopeRecorded"] == [
        "2025-04-10",
        "2025-05-05",
        "2025-11-20",
        "2026-02-20",
    ]


def test_a_payment_typed_late_is_judged_on_its_own_date() -> None:
    """An advance of 10 December 2024 typed after 2025 opened is recorded at its business date, on 2024's
    commitment (only the calendar's facts came after it)."""
    c = committed(notified(bordeaux_in_execution()))
    c.do(
        "RecordCommitteeReview",
        COMMISSAIRE_75,
        at(2024, 11, 20),
        year=2024,
        review_date=at(2024, 11, 18).date(),
        findings="ok",
        decision="CONTINUE",
    )
    c.do("OpenProgrammeYear", SYSTEM, at(2025, 1, 1), year=2025)
    c.do("RecordPayment", PREFET_33, at(2024, 12, 10), **_pay("avance", 700_000, document="DP-late"))
    assert c.state.year(2024).paid == 700_000 * EUR and c.state.current_year == 2025
    assert c.state.year(2024).payments[0].paid_on.isoformat() == "2024-12-10"


def closing_with_2027_advance(spent_euros: int) -> Contract:
    """Bordeaux in closing: 700 000 € advanced on 2027, whose report proves ``spent_euros`` of État spending."""
    c = bordeaux_in_execution()
    for year in (2025, 2026, 2027):
        c.do("OpenProgrammeYear", SYSTEM, at(year, 1, 1), year=year)
    c.do("RecordEnvelope", PREFET_33, at(2027, 2, 1), **{**_envelope("notification", 1_400_000), "year": 2027})
    c.do("RecordCommitment", PREFET_33, at(2027, 2, 2), year=2027, ej_number=EJ, amount=PROGRAMMED)
    c.do("RecordPayment", PREFET_33, at(2027, 2, 3), **_pay("avance", 700_000, document="DP27"))
    c.do("BeginClosing", SYSTEM, at(2028, 1, 1))
    spent = {"A1": spent_euros * EUR, "A2": 0, "A3": 0, "A4": 0}
    c.do("SubmitExecutionReport", BORDEAUX_COLL, at(2028, 2, 1), year=2027, etat_spent=spent, collectivite_spent=spent)
    return c


def test_a_titre_de_perception_claims_back_what_was_paid_beyond_what_was_used_and_its_recovery_is_recorded() -> None:
    c = closing_with_2027_advance(400_000)  # paid 700 000 €, used 400 000 €: 300 000 € owed back
    row = {r.year: r for r in trail(c.state)}[2027]
    assert row.owed_back == 300_000 * EUR and "owed_back_not_claimed" in row.gaps
    with pytest.raises(DomainError) as info:
        c.do("IssueRecoveryOrder", PREFET_33, at(2028, 2, 2), year=2027, titre_number="T1", amount=300_000 * EUR + 1)
    assert info.value.rule == "recovery.above_owed"
    c.do("IssueRecoveryOrder", PREFET_33, at(2028, 2, 2), year=2027, titre_number="T1", amount=300_000 * EUR)
    c.do("RecordRecoveryCollected", PREFET_33, at(2028, 3, 1), titre_number="T1", amount=100_000 * EUR)
    row = {r.year: r for r in trail(c.state)}[2027]
    assert (row.claimed, row.recovered) == (300_000 * EUR, 100_000 * EUR) and row.gaps.count("recovery_outstanding")
    assert c.state.year(2027).titres[0].issued_on.isoformat() == "2028-02-02"
    for fields, rule in (
        ({"titre_number": "T1", "amount": 200_000 * EUR + 1}, "recovery.above_titre"),
        ({"titre_number": "T9", "amount": 1}, "recovery.unknown_titre"),
    ):
        with pytest.raises(DomainError) as info:
            c.do("RecordRecoveryCollected", PREFET_33, at(2028, 3, 2), **fields)
        assert info.value.rule == rule
    with pytest.raises(DomainError) as info:
        c.do("IssueRecoveryOrder", PREFET_33, at(2028, 3, 2), year=2027, titre_number="T1", amount=1)
    assert info.value.rule == "recovery.titre_known"
    c.do("RecordRecoveryCollected", PREFET_33, at(2028, 3, 2), titre_number="T1", amount=200_000 * EUR)
    assert "recovery_outstanding" not in {r.year: r for r in trail(c.state)}[2027].gaps


def test_nothing_is_claimed_back_before_the_report_nor_what_the_refaction_already_deducts() -> None:
    c = ready()  # 2024: 700 000 € advanced, no report yet
    with pytest.raises(DomainError) as info:
        c.do("IssueRecoveryOrder", PREFET_33, at(2024, 6, 1), year=2024, titre_number="T1", amount=1)
    assert info.value.rule == "recovery.before_report"
    c = reported(400_000)  # used 400 000 € of 700 000 € paid; the réfaction deducts 1 000 000 € from 2025
    assert c.state.year(2025).refaction == 1_000_000 * EUR
    with pytest.raises(DomainError) as info:
        c.do("IssueRecoveryOrder", PREFET_33, at(2025, 2, 2), year=2024, titre_number="T1", amount=1)
    assert info.value.rule == "recovery.above_owed" and info.value.params["owed_cents"] == 0
