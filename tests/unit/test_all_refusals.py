"""A command is refused with every independent violation at once (issue 22: two fiches each off the 50/50 rule, or an
amount and a date both wrong, were refused one at a time), the first one found being the one a check-at-a-time
decider raised; and a date refusal quotes the bound the decider actually applied."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from domain.axes import Axis
from domain.calendar import calendar_until
from domain.decider import decide
from domain.errors import DomainError
from domain.values import YearAmounts
from pacte.web.messages import in_french
from tests.unit.builders import (
    BORDEAUX,
    BORDEAUX_ACTIONS,
    BORDEAUX_COLL,
    COMMISSAIRE_75,
    EUR,
    PREFET_33,
    Contract,
    action,
    at,
    bordeaux_in_execution,
    command,
)


def refused(c: Contract, kind: str, actor: Any, when: datetime, **fields: Any) -> DomainError:
    with pytest.raises(DomainError) as raised:
        c.decide(kind, actor, when, **fields)
    return raised.value


def rules(error: DomainError) -> list[tuple[str, dict[str, Any]]]:
    return [(e.rule, e.params) for e in error.all]


def unequal(euros: int, years: tuple[int, ...]) -> dict[int, YearAmounts]:
    """Amounts off the 50/50 rule in ``years`` (the collectivité gives 1 € less), equal in the others."""
    return {
        y: YearAmounts(etat=euros * EUR, collectivite=euros * EUR - (EUR if y in years else 0))
        for y in (2024, 2025, 2026, 2027)
    }


def test_a_fiche_is_refused_for_every_year_off_the_50_50_rule_and_its_indicator_at_once() -> None:
    c = bordeaux_in_execution("proposed")
    fiche = action("A9", Axis.ENFANCE, 1_000, amounts=unequal(1_000, (2024, 2026)))
    fiche = fiche.model_copy(update={"indicators": (fiche.indicators[0].model_copy(update={"targets": {2024: 1}}),)})
    error = refused(c, "AddAction", PREFET_33, at(2024, 1, 10), action=fiche)
    assert [r for r, _ in rules(error)] == ["money.co_financing", "money.co_financing", "indicator.target_missing"]
    assert [p.get("year") for _, p in rules(error)][:2] == [2024, 2026]
    assert (error.rule, error.params["year"]) == ("money.co_financing", 2024)  # the first, as before


def test_a_proposal_is_refused_for_each_of_its_fiches_at_once() -> None:
    c = Contract(f"cls-{BORDEAUX}")
    drafts = [
        action("A1", Axis.ENFANCE, 100, amounts=unequal(100, (2025,))),
        action("A2", Axis.EMPLOI, 100),
        action("A3", Axis.GRANDE_EXCLUSION, 100, amounts=unequal(100, (2024,))),
    ]
    error = refused(
        c, "ProposeContract", PREFET_33, at(2023, 12, 1), territory_id=BORDEAUX, annual_ceiling=0, draft_actions=drafts
    )
    assert [(r, p.get("action")) for r, p in rules(error)] == [
        ("ceiling.not_positive", None),
        ("money.co_financing", "A1"),
        ("money.co_financing", "A3"),
    ]


def test_every_year_above_the_ceiling_is_refused_at_once() -> None:
    c = bordeaux_in_execution("proposed")  # 1 400 000 € of État money a year, under a 1 500 000 € ceiling
    error = refused(c, "AddAction", PREFET_33, at(2024, 1, 10), action=action("A9", Axis.ENFANCE, 200_000))
    assert [(r, p["year"]) for r, p in rules(error)] == [("money.ceiling", y) for y in (2024, 2025, 2026, 2027)]


def test_an_amendment_is_refused_for_each_of_its_fiches_and_the_ceiling_at_once() -> None:
    c = bordeaux_in_execution()
    amounts = {
        "A1": {"etat": 500_000 * EUR, "collectivite": 499_999 * EUR},
        "A2": {"etat": 300_000 * EUR, "collectivite": 200_000 * EUR},
        "A3": {"etat": 800_000 * EUR, "collectivite": 800_000 * EUR},
    }
    error = refused(c, "Amend", PREFET_33, at(2024, 6, 1), amendment_id="AV-1", year=2024, amounts=amounts, reason="x")
    assert [(r, p.get("action")) for r, p in rules(error)] == [
        ("money.co_financing", "A1"),
        ("money.co_financing", "A2"),
        ("money.ceiling", None),
    ]
    assert error.field == "amounts.A1"  # the first stays the first (the API's code, message and field)


def test_a_review_is_refused_for_each_fiche_spending_above_its_programme_at_once() -> None:
    c = bordeaux_in_execution()
    spending = {"A1": 400_001 * EUR, "A2": 10 * EUR, "A3": 500_001 * EUR}
    error = refused(
        c,
        "RecordCommitteeReview",
        COMMISSAIRE_75,
        at(2024, 11, 20),
        year=2024,
        review_date=date(2024, 11, 18),
        findings="x",
        decision="CONTINUE",
        spending=spending,
    )
    assert sorted(p["action"] for _, p in rules(error)) == ["A1", "A3"]
    assert {r for r, _ in rules(error)} == {"spending.above_programmed"}


def test_a_date_in_the_future_and_an_amount_are_refused_at_once() -> None:
    c = bordeaux_in_execution("proposed")
    fiche = action("A9", Axis.ENFANCE, 1_000, amounts=unequal(1_000, (2025,)))
    typed = command("AddAction", c.contract_id, PREFET_33, at(2024, 9, 1), action=fiche)
    error: DomainError | None = None
    try:
        decide(typed.model_copy(update={"entered_at": at(2024, 3, 1)}), c.state, c.policy)
    except DomainError as refusal:
        error = refusal
    assert error is not None
    assert [r for r, _ in rules(error)] == ["date.in_future", "money.co_financing"]


def test_a_date_before_the_last_fact_and_an_amount_are_refused_at_once() -> None:
    c = bordeaux_in_execution("proposed")
    c.do("AddAction", PREFET_33, at(2024, 1, 10), action=action("A5", Axis.ENFANCE, 10))
    fiche = action("A9", Axis.ENFANCE, 1_000, amounts=unequal(1_000, (2025,)))
    error = refused(c, "AddAction", PREFET_33, at(2024, 1, 5), action=fiche)
    assert [r for r, _ in rules(error)] == ["date.before_last_fact", "money.co_financing"]


def test_a_single_refusal_is_alone_and_every_refusal_crosses_the_workflow() -> None:
    c = bordeaux_in_execution("proposed")
    alone = refused(c, "AddAction", PREFET_33, at(2024, 1, 10), action=BORDEAUX_ACTIONS[0])
    assert alone.rule == "action.exists" and alone.others == ()
    assert "errors" not in alone.details()  # what a worker of before several refusals answered
    several = refused(
        c,
        "AddAction",
        PREFET_33,
        at(2024, 1, 10),
        action=action("A9", Axis.ENFANCE, 9, amounts=unequal(9, (2024, 2025))),
    )
    again = DomainError.from_dict(several.details())
    assert rules(again) == rules(several) and len(again.all) == 2
    shape = several.to_dict()
    assert (shape["code"], shape["field"], shape["message"]) == (several.code, several.field, several.message)
    assert [e["rule"] for e in shape["errors"]] == ["money.co_financing", "money.co_financing"]  # type: ignore[index]


# --- the bound a date refusal quotes is the one applied ---------------------------------------------------------------


def test_a_fact_before_the_last_one_quotes_the_bound_applied_not_the_calendars_last_fact() -> None:
    """Found by a user walk: "before the last recorded fact (1 April 2024)", a missed deadline of the calendar, while
    20 January 2024 was accepted a moment later (a fact recorded late may precede the calendar's facts)."""
    c = bordeaux_in_execution("proposed")
    c.do("AddAction", PREFET_33, at(2024, 1, 10), action=action("A5", Axis.ENFANCE, 10))
    events, c.state = calendar_until(c.state, c.policy, at(2024, 4, 5), lambda cmd, s: decide(cmd, s, c.policy))
    assert events and c.state.last_at is not None and c.state.last_at > at(2024, 1, 10)  # the calendar came after
    error = refused(c, "RemoveAction", BORDEAUX_COLL, at(2024, 1, 5), action_id="A5")
    assert error.rule == "date.before_last_fact" and error.params["last_date"] == "2024-01-10"
    assert "10 janvier 2024" in in_french(error.rule, error.params)
    bound = date.fromisoformat(str(error.params["last_date"]))
    assert c.decide("RemoveAction", BORDEAUX_COLL, at(bound.year, bound.month, bound.day), action_id="A5")


def test_a_vote_after_the_date_of_the_fact_is_said_so_with_that_date() -> None:
    """Found by a user walk: a vote dated the day after the date of the fact was called "in the future"."""
    c = bordeaux_in_execution("proposed")
    deliberation = {"body": "assemblee", "voted_on": date(2024, 2, 16), "reference": "DEL-1"}
    error = refused(c, "RecordDeliberation", BORDEAUX_COLL, at(2024, 2, 15), deliberation=deliberation)
    assert error.rule == "deliberation.vote_in_future" and error.params["fact_date"] == "2024-02-15"
    said = in_french(error.rule, error.params)
    assert "15 février 2024" in said and "futur" not in said, said


def test_a_review_after_the_date_of_the_fact_quotes_that_date() -> None:
    c = bordeaux_in_execution()
    error = refused(
        c,
        "RecordCommitteeReview",
        COMMISSAIRE_75,
        at(2024, 11, 20),
        year=2024,
        review_date=date(2024, 11, 21),
        findings="x",
        decision="CONTINUE",
    )
    assert error.rule == "review.date_outside_year"
    assert "20 novembre 2024" in in_french(error.rule, error.params)


def test_a_signature_is_refused_for_every_year_an_axis_goes_unfunded_at_once() -> None:
    fiches = (*BORDEAUX_ACTIONS[:3], action("A4", Axis.TRANSITION_ECOLOGIQUE, 0))  # an axis with no money, any year
    c = bordeaux_in_execution("deliberated", actions=fiches)
    error = refused(c, "SignContract", PREFET_33, at(2024, 3, 1), party="etat", signatory="Le préfet")
    assert [(r, p["year"]) for r, p in rules(error)] == [("axis.unfunded", y) for y in (2024, 2025, 2026, 2027)]


def test_a_mid_term_evaluation_is_refused_for_its_missing_fiches_and_its_empty_text_at_once() -> None:
    c = bordeaux_in_execution()
    error = refused(
        c, "RecordMidTermEvaluation", COMMISSAIRE_75, at(2026, 1, 10), evaluations={"A1": "Bien", "A9": "  "}
    )
    assert [r for r, _ in rules(error)] == ["evaluation.every_action", "evaluation.empty"]
