"""Whole 2024–2027 lifecycles in plain unit tests, from proposal to closing, balance checked to the cent."""

from __future__ import annotations

from datetime import date

from domain.axes import Axis
from domain.state import Status
from domain.values import YearAmounts
from tests.unit.builders import (
    BORDEAUX_COLL,
    COMMISSAIRE_75,
    EUR,
    PREFET_33,
    SYSTEM,
    Contract,
    action,
    at,
    bordeaux_in_execution,
    collectivite,
    commissaire,
    prefet,
)


def review(c: Contract, year: int, actor=COMMISSAIRE_75) -> None:  # type: ignore[no-untyped-def]
    c.do(
        "RecordCommitteeReview",
        actor,
        at(year, 11, 20),
        year=year,
        review_date=date(year, 11, 18),
        indicator_values={next(iter(c.state.actions)): {"beneficiaires": 110}},
        spending={},
        findings=f"Revue {year}",
        decision="CONTINUE",
    )


def renew(c: Contract, year: int, prefet_actor, coll_actor, amounts) -> None:  # type: ignore[no-untyped-def]
    c.do("Renew", prefet_actor, at(year - 1, 12, 1), year=year, amounts=amounts)
    c.do("SignAvenant", prefet_actor, at(year - 1, 12, 5), avenant_id=f"renewal-{year}", party="etat")
    c.do("SignAvenant", coll_actor, at(year - 1, 12, 10), avenant_id=f"renewal-{year}", party="collectivite")
    assert c.state.year(year).renewed


def same(euros: int, cents: int = 0) -> YearAmounts:
    return YearAmounts(etat=euros * EUR + cents, collectivite=euros * EUR + cents)


def test_a_metropole_from_proposal_to_closing_with_the_balance_to_the_cent() -> None:
    c = bordeaux_in_execution()
    assert c.state.status is Status.IN_EXECUTION and c.state.current_year == 2024
    assert c.state.in_force_from == date(2024, 1, 1)
    keep = {"A1": same(400_000)}

    review(c, 2024)
    renew(c, 2025, PREFET_33, BORDEAUX_COLL, keep)
    c.do("OpenProgrammeYear", SYSTEM, at(2025, 1, 1, 0), year=2025)
    # 2024: A1 under-spent by the État (20 000 €), A3 under-matched by the collectivité (49 999,50 €).
    c.do(
        "SubmitExecutionReport",
        BORDEAUX_COLL,
        at(2025, 2, 10),
        year=2024,
        etat_spent={"A1": 380_000 * EUR, "A2": 300_000 * EUR, "A3": 500_000 * EUR, "A4": 200_000 * EUR},
        collectivite_spent={"A1": 400_000 * EUR, "A2": 300_000 * EUR, "A3": 450_000 * EUR + 50, "A4": 200_000 * EUR},
    )
    assert c.state.year(2024).recoverable_etat == 6_999_950
    assert c.state.year(2025).refaction == 6_999_950

    review(c, 2025)
    renew(c, 2026, PREFET_33, BORDEAUX_COLL, keep)
    c.do("OpenProgrammeYear", SYSTEM, at(2026, 1, 1, 0), year=2026)
    full = {k: a.amounts[2025].etat for k, a in c.state.actions.items()}
    c.do("SubmitExecutionReport", BORDEAUX_COLL, at(2026, 3, 1), year=2025, etat_spent=full, collectivite_spent=full)
    assert c.state.year(2025).recoverable_etat == 0
    c.do(
        "RecordMidTermEvaluation",
        COMMISSAIRE_75,
        at(2026, 6, 15),
        evaluations={k: "Conforme aux objectifs" for k in c.state.actions},
    )

    review(c, 2026)
    renew(c, 2027, PREFET_33, BORDEAUX_COLL, keep)
    c.do("OpenProgrammeYear", SYSTEM, at(2027, 1, 1, 0), year=2027)
    # 2026: A4 never started (200 000 € recovered on 2027).
    spent_2026 = {"A1": 400_000 * EUR, "A2": 300_000 * EUR, "A3": 500_000 * EUR, "A4": 0}
    c.do(
        "SubmitExecutionReport",
        BORDEAUX_COLL,
        at(2027, 3, 1),
        year=2026,
        etat_spent=spent_2026,
        collectivite_spent=spent_2026,
    )
    assert c.state.year(2027).refaction == 20_000_000

    review(c, 2027)
    c.do("BeginClosing", SYSTEM, at(2028, 1, 1, 0))
    assert c.state.status is Status.CLOSING
    # 2027: one cent of État credits unspent on A1, reimbursed at closing (no later year to deduct it from).
    c.do(
        "SubmitExecutionReport",
        BORDEAUX_COLL,
        at(2028, 3, 1),
        year=2027,
        etat_spent={"A1": 400_000 * EUR - 1, "A2": 300_000 * EUR, "A3": 500_000 * EUR, "A4": 200_000 * EUR},
        collectivite_spent={"A1": 400_000 * EUR, "A2": 300_000 * EUR, "A3": 500_000 * EUR, "A4": 200_000 * EUR},
    )
    c.do("CloseContract", PREFET_33, at(2028, 3, 20), declared_reversement=1)

    balance = c.state.balance
    assert c.state.status is Status.CLOSED and balance is not None
    assert balance.programmed_etat == 4 * 1_400_000 * EUR == 560_000_000
    assert balance.recoverable_etat == 6_999_950 + 20_000_000 + 1
    assert balance.refaction_applied == 26_999_950
    assert balance.used_etat == 533_000_049
    assert balance.paid_etat == 533_000_050
    assert balance.reversement == 1
    assert balance.programmed_etat == balance.used_etat + balance.recoverable_etat
    assert balance.paid_etat - balance.used_etat == balance.reversement
    assert [e.type for e in c.events].count("ProgrammeYearOpened") == 4


def test_a_departement_with_an_amendment_a_suspension_and_closing() -> None:
    gironde, coll, prefet33, commissaire75 = "D33", collectivite("D33"), prefet("33"), commissaire("75")
    c = Contract("cls-d33")
    c.do("ProposeContract", prefet33, at(2023, 12, 10), territory_id=gironde, annual_ceiling=900_000 * EUR)
    assert c.state.status is Status.PROPOSED
    c.do("AddAction", coll, at(2024, 1, 5), action=action("E1", Axis.ENFANCE, 300_000))
    assert c.state.status is Status.NEGOTIATING
    c.do("AddAction", prefet33, at(2024, 1, 6), action=action("G1", Axis.GRANDE_EXCLUSION, 400_000))
    c.do("AddAction", coll, at(2024, 1, 7), action=action("T1", Axis.TRANSITION_ECOLOGIQUE, 150_000))
    c.do("AddAction", coll, at(2024, 1, 8), action=action("T2", Axis.TRANSITION_ECOLOGIQUE, 10_000))
    c.do("RemoveAction", prefet33, at(2024, 1, 9), action_id="T2")
    c.do(
        "ChangeAction",
        coll,
        at(2024, 1, 10),
        action=action("T1", Axis.TRANSITION_ECOLOGIQUE, 200_000, nature="reinforced", reinforcement="new_areas"),
    )
    c.do(
        "RecordDeliberation",
        coll,
        at(2024, 3, 20),
        deliberation={"body": "commission_permanente", "voted_on": date(2024, 3, 18), "reference": "CP-24-3"},
    )
    c.do("SignContract", coll, at(2024, 4, 2), party="collectivite", signatory="Président du Département")
    assert c.state.status is Status.DELIBERATED
    c.do("SignContract", prefet33, at(2024, 4, 9), party="etat", signatory="Préfet")
    assert c.state.status is Status.IN_EXECUTION

    # Move 50 000 € from G1 to E1 for 2024, by an amendment both parties sign.
    c.do(
        "Amend",
        coll,
        at(2024, 6, 1),
        amendment_id="AV-2024-1",
        year=2024,
        amounts={"E1": same(350_000), "G1": same(350_000)},
        reason="Transfert vers la petite enfance",
    )
    assert c.state.actions["E1"].amounts[2024].etat == 300_000 * EUR  # not before both sign
    c.do("SignAvenant", coll, at(2024, 6, 2), avenant_id="AV-2024-1", party="collectivite")
    c.do("SignAvenant", prefet33, at(2024, 6, 3), avenant_id="AV-2024-1", party="etat")
    assert c.state.actions["E1"].amounts[2024].etat == 350_000 * EUR

    c.do(
        "RecordCommitteeReview",
        commissaire75,
        at(2024, 10, 1),
        year=2024,
        review_date=date(2024, 9, 30),
        findings="Retards graves sur G1",
        decision="SUSPEND",
    )
    assert c.state.status is Status.SUSPENDED
    c.do("Resume", prefet33, at(2024, 11, 1), reason="Plan de rattrapage validé")
    assert c.state.status is Status.IN_EXECUTION

    for year in (2025, 2026, 2027):
        renew(c, year, prefet33, coll, {"E1": same(300_000)})
        c.do("OpenProgrammeYear", SYSTEM, at(year, 1, 2), year=year)
        spent = {k: a.amounts[year - 1].etat for k, a in c.state.actions.items()}
        c.do("SubmitExecutionReport", coll, at(year, 3, 1), year=year - 1, etat_spent=spent, collectivite_spent=spent)
        review(c, year, commissaire75)
    c.do("BeginClosing", SYSTEM, at(2028, 1, 2))
    spent = {k: a.amounts[2027].etat for k, a in c.state.actions.items()}
    c.do("SubmitExecutionReport", coll, at(2028, 3, 1), year=2027, etat_spent=spent, collectivite_spent=spent)
    c.do("CloseContract", prefet33, at(2028, 3, 30))
    assert c.state.status is Status.CLOSED
    assert c.state.balance is not None
    assert c.state.balance.reversement == 0
    assert c.state.balance.programmed_etat == (900_000 + 3 * 900_000) * EUR


def test_termination_ends_everything() -> None:
    c = bordeaux_in_execution("deliberated")
    c.do("Terminate", BORDEAUX_COLL, at(2024, 3, 1), reason="Changement de majorité")
    assert c.state.status is Status.TERMINATED and c.state.termination_reason == "Changement de majorité"
