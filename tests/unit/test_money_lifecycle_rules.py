"""Money and lifecycle rules a real préfecture would trip on (issue: wrong balances, one party rewriting the other's
budget, obligations ticked off too early). Each defect has its probe, refused now, and the accepted case beside it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.actors import Actor, Role
from domain.axes import Axis
from domain.commands import COMMAND_TYPES
from domain.errors import DomainError
from domain.state import Status
from tests.unit.builders import (
    BORDEAUX,
    BORDEAUX_ACTIONS,
    BORDEAUX_COLL,
    COMMISSAIRE_75,
    EUR,
    PREFET_33,
    SYSTEM,
    Contract,
    action,
    amounts,
    at,
    bordeaux_in_execution,
)

FULL = {a.action_id: a.amounts[2024].etat for a in BORDEAUX_ACTIONS}


def signed_in_2025() -> Contract:
    """Bordeaux deliberated in 2024 but signed only in February 2025: 2024 never ran under this contract."""
    c = bordeaux_in_execution("deliberated")
    c.do("SignContract", PREFET_33, at(2025, 2, 1), party="etat", signatory="P")
    c.do("SignContract", BORDEAUX_COLL, at(2025, 2, 2), party="collectivite", signatory="C")
    assert c.state.current_year == 2025 and not c.state.year(2024).opened
    return c


def refused(c: Contract, kind: str, actor: Any, when: Any, **fields: Any) -> DomainError:
    before = c.state
    with pytest.raises(DomainError) as info:
        c.decide(kind, actor, when, **fields)
    assert c.state == before
    return info.value


# 1. No report (nor réfaction) for a year the contract never ran; no negative balance.
def test_a_report_for_a_year_never_run_is_refused() -> None:
    c = signed_in_2025()
    c.do("OpenProgrammeYear", SYSTEM, at(2026, 1, 1), year=2026)
    error = refused(
        c, "SubmitExecutionReport", BORDEAUX_COLL, at(2026, 2, 1), year=2024, etat_spent={}, collectivite_spent={}
    )
    assert error.field == "year" and "never" in error.message
    c.do("SubmitExecutionReport", BORDEAUX_COLL, at(2026, 2, 1), year=2025, etat_spent=FULL, collectivite_spent=FULL)


# 2. Résiliation settles: a balance for the years run, what is owed back.
def test_a_termination_settles_the_years_run() -> None:
    c = bordeaux_in_execution("reviewed")
    c.do("OpenProgrammeYear", SYSTEM, at(2025, 1, 1), year=2025)
    half = {k: v // 2 for k, v in FULL.items()}
    c.do("SubmitExecutionReport", BORDEAUX_COLL, at(2025, 2, 1), year=2024, etat_spent=half, collectivite_spent=half)
    c.do("Terminate", PREFET_33, at(2025, 6, 1), reason="Résiliation")
    b = c.state.balance
    assert b is not None and c.state.status is Status.TERMINATED
    year_total = sum(FULL.values())
    # 2024: half used, half recovered (deducted from 2025); 2025: no report, nothing proven spent: all owed back.
    assert b.programmed_etat == 2 * year_total
    assert b.used_etat == year_total // 2
    assert b.recoverable_etat == year_total // 2 + year_total
    assert b.refaction_applied == year_total // 2
    assert b.reversement == year_total and b.programmed_etat == b.used_etat + b.recoverable_etat


def test_terminated_before_signature_owes_nothing() -> None:
    c = bordeaux_in_execution("deliberated")
    c.do("Terminate", BORDEAUX_COLL, at(2024, 3, 1), reason="Désaccord")
    assert c.state.balance is not None and c.state.balance.reversement == 0 == c.state.balance.programmed_etat


# 3. No avenant concluded for a year that is over or reported.
def test_an_amendment_cannot_be_concluded_once_its_year_is_over() -> None:
    c = bordeaux_in_execution()
    c.do(
        "Amend",
        PREFET_33,
        at(2024, 12, 1),
        amendment_id="AV1",
        year=2024,
        amounts={"A1": {"etat": 350_000 * EUR, "collectivite": 350_000 * EUR}},
        reason="r",
    )
    c.do("SignAvenant", PREFET_33, at(2024, 12, 2), avenant_id="AV1", party="etat")
    c.do("OpenProgrammeYear", SYSTEM, at(2025, 1, 1), year=2025)
    error = refused(c, "SignAvenant", BORDEAUX_COLL, at(2025, 1, 10), avenant_id="AV1", party="collectivite")
    assert (error.code, error.field) == ("lifecycle_violation", "avenant_id")


# 4. The préfet alone no longer rewrites a year's amounts: money moves by avenant signed by both.
def test_the_annual_programme_command_is_gone() -> None:
    assert "SetAnnualProgramme" not in COMMAND_TYPES


# 6. A métropole funds every axis in every programme year it runs: at signature, amendment and renewal alike.
def test_an_axis_without_money_in_a_year_is_refused_everywhere() -> None:
    zero_2026 = amounts(400_000) | {2026: {"etat": 0, "collectivite": 0}}
    actions = (action("A1", Axis.ENFANCE, 400_000, amounts=zero_2026), *BORDEAUX_ACTIONS[1:])
    c = bordeaux_in_execution("deliberated", actions=actions)
    error = refused(c, "SignContract", PREFET_33, at(2024, 3, 1), party="etat", signatory="P")
    assert error.code == "axis_rule" and "2026" in error.message and "ENFANCE" in error.message

    c = bordeaux_in_execution()
    zero = {"A1": {"etat": 0, "collectivite": 0}}
    error = refused(c, "Amend", PREFET_33, at(2024, 6, 1), amendment_id="AV0", year=2024, amounts=zero, reason="r")
    assert error.code == "axis_rule"


# 10. Indicators: a target for every programme year the action is funded, none negative; no negative review value.
@pytest.mark.parametrize(
    ("targets", "field"),
    [
        ({}, "action.indicators"),
        ({2024: -1, 2025: 1, 2026: 1, 2027: 1}, "action.indicators"),
        ({2024: 1}, "action.indicators"),
    ],
)
def test_indicators_need_a_target_for_every_funded_year(targets: dict[int, int], field: str) -> None:
    c = bordeaux_in_execution("proposed")
    indicator = {"code": "x", "label": "X", "baseline": 1, "targets": targets}
    with pytest.raises((DomainError, ValueError)):
        c.decide("AddAction", PREFET_33, at(2024, 1, 5), action=action("A9", Axis.ENFANCE, 1, indicators=(indicator,)))


def test_a_review_value_cannot_be_negative() -> None:
    c = bordeaux_in_execution()
    with pytest.raises((DomainError, ValueError)):
        c.decide(
            "RecordCommitteeReview",
            COMMISSAIRE_75,
            at(2024, 6, 1),
            year=2024,
            review_date=date(2024, 6, 1),
            indicator_values={"A1": {"beneficiaires": -5}},
            findings="f",
            decision="CONTINUE",
        )


# 11. A national préfet (scope *) does not sign for the État: the préfet of the territory's département does.
def test_only_the_territorys_prefet_signs_for_the_etat() -> None:
    national = Actor(role=Role.PREFET, identity="dgcs", scope=("*",))
    c = bordeaux_in_execution("deliberated")
    error = refused(c, "SignContract", national, at(2024, 3, 1), party="etat", signatory="DGCS")
    assert (error.code, error.field) == ("out_of_scope", "actor.scope")
    c.do("SignContract", PREFET_33, at(2024, 3, 1), party="etat", signatory="Préfet de la Gironde")
    # Nor does it correct the date of the État's signature.
    signed = bordeaux_in_execution()
    fields = {"party": "etat", "signed_on": date(2024, 2, 28), "reason": "r"}
    error = refused(signed, "RectifySignature", national, at(2024, 4, 1), **fields)
    assert (error.code, error.field) == ("out_of_scope", "actor.scope")


# 5 (part) and the missing pieces: an avenant signed by both changes the ceiling, adds, changes or removes actions,
# and answers an ADJUST review.
def conclude(c: Contract, when: Any, amendment_id: str, **fields: Any) -> None:
    c.do("Amend", PREFET_33, when, amendment_id=amendment_id, reason="avenant", **fields)
    c.do("SignAvenant", PREFET_33, when, avenant_id=amendment_id, party="etat")
    c.do("SignAvenant", BORDEAUX_COLL, when, avenant_id=amendment_id, party="collectivite")


def test_a_mistyped_ceiling_is_corrected_by_an_avenant_signed_by_both() -> None:
    c = bordeaux_in_execution()
    raised = {"A1": {"etat": 500_000 * EUR, "collectivite": 500_000 * EUR}}
    conclude(c, at(2024, 5, 1), "PLAFOND", year=2024, amounts=raised, terms={"annual_ceiling": 1_600_000 * EUR})
    assert c.state.annual_ceiling == 1_600_000 * EUR and c.state.actions["A1"].amounts[2024].etat == 500_000 * EUR
    error = refused(
        c,
        "Amend",
        PREFET_33,
        at(2024, 5, 2),
        amendment_id="BAS",
        year=2024,
        terms={"annual_ceiling": 1_000_000 * EUR},
        reason="r",
    )
    assert (error.code, error.field) == ("annual_ceiling_exceeded", "terms.annual_ceiling")


def test_a_signed_contract_adds_changes_and_removes_actions_by_avenant() -> None:
    c = bordeaux_in_execution()
    c.do("OpenProgrammeYear", SYSTEM, at(2025, 1, 1), year=2025)
    new = action("A5", Axis.ENFANCE, 50_000, amounts=amounts(50_000, years=(2025, 2026, 2027)))
    renamed = BORDEAUX_ACTIONS[1].model_copy(update={"title": "Garde d'enfants — horaires atypiques"})
    conclude(c, at(2025, 2, 1), "FICHES", year=2025, terms={"added_actions": [new], "changed_actions": [renamed]})
    assert "A5" in c.state.actions and c.state.actions["A2"].title.startswith("Garde")
    # A1 was funded in 2024, which is over: it cannot be removed (its history stays), only left without money.
    error = refused(
        c,
        "Amend",
        PREFET_33,
        at(2025, 2, 2),
        amendment_id="RM",
        year=2025,
        terms={"removed_actions": ["A1"]},
        reason="r",
    )
    assert (error.code, error.field) == ("lifecycle_violation", "terms.removed_actions.0")
    conclude(c, at(2025, 2, 3), "RM5", year=2025, terms={"removed_actions": ["A5"]})
    assert "A5" not in c.state.actions
    late = action("A6", Axis.ENFANCE, 1)  # funded in 2024 too, a year that is over
    error = refused(
        c, "Amend", PREFET_33, at(2025, 2, 4), amendment_id="A6", year=2025, terms={"added_actions": [late]}, reason="r"
    )
    assert error.field == "terms.added_actions.0.amounts"


def test_an_adjust_review_is_answered_by_the_amendment_that_follows_it() -> None:
    c = bordeaux_in_execution()
    review = {"year": 2024, "review_date": date(2024, 6, 1), "findings": "Décalage", "decision": "ADJUST"}
    error = refused(
        c,
        "Amend",
        PREFET_33,
        at(2024, 6, 2),
        amendment_id="ADJ",
        year=2024,
        amounts={"A1": {"etat": 1, "collectivite": 1}},
        terms={"follows_review_of": 2024},
        reason="r",
    )
    assert error.field == "terms.follows_review_of"  # no ADJUST review yet
    c.do("RecordCommitteeReview", COMMISSAIRE_75, at(2024, 6, 1), **review)
    c.do(
        "Amend",
        PREFET_33,
        at(2024, 6, 2),
        amendment_id="ADJ",
        year=2024,
        amounts={"A1": {"etat": 350_000 * EUR, "collectivite": 350_000 * EUR}},
        terms={"follows_review_of": 2024},
        reason="suite au comité",
    )
    assert c.state.year(2024).adjusted_by == ("ADJ",)


def test_a_later_attempt_names_an_earlier_contract_of_its_territory() -> None:
    fields = {"territory_id": BORDEAUX, "annual_ceiling": 1_500_000 * EUR}
    again = Contract("cls-243300316-2")
    events = again.do("ProposeContract", PREFET_33, at(2024, 4, 1), replaces="cls-243300316", **fields)
    assert events[0].replaces == "cls-243300316" and again.state.replaces == "cls-243300316"  # type: ignore[union-attr]
    for contract_id, replaces in (
        ("cls-243300316-2", "cls-243100518"),
        ("cls-243300316-2", "cls-243300316-3"),
        ("cls-243100518-2", None),
    ):
        error = refused(
            Contract(contract_id), "ProposeContract", PREFET_33, at(2024, 4, 1), replaces=replaces, **fields
        )
        assert error.field in ("replaces", "contract_id")
