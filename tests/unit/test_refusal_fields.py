"""A refusal is shown at the input that carries the wrong value, or in the form's summary when it is about a total
(found by a user walk: a ceiling rule shown at the first fiche's amounts, a frozen fiche's new title shown at its
first indicator, spending above the programme shown on the whole group instead of the fiche's input). The domain names
the value (``field``), the web places it (``where``), for every form that sends the command."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.axes import Axis
from domain.errors import DomainError
from pacte.web.acts import _problems
from pacte.web.forms import FORMS, fields_for
from tests.unit.builders import (
    BORDEAUX_COLL,
    COMMISSAIRE_75,
    EUR,
    PREFET_33,
    Contract,
    action,
    at,
    bordeaux_in_2025,
    bordeaux_in_execution,
)


def placed(c: Contract, form: str, key: str, kind: str, actor: Any, when: Any, **fields: Any) -> dict[str, str]:
    """Each refusal's rule, and where the form shows it ("" for the summary)."""
    with pytest.raises(DomainError) as raised:
        c.decide(kind, actor, when, **fields)
    shown = _problems(raised.value, fields_for(FORMS[form], c.state, key), FORMS[form].key)
    return {f"{one.rule}:{one.params.get('action', '')}": p.at for one, p in zip(raised.value.all, shown, strict=True)}


def test_a_ceiling_exceeded_by_an_amendment_is_said_in_the_summary_and_the_fiche_off_50_50_at_its_own() -> None:
    c = bordeaux_in_execution()  # 1 400 000 € a year under a 1 500 000 € ceiling
    amounts = {"A2": {"etat": 900_000 * EUR, "collectivite": 300_000 * EUR}}
    where = placed(
        c, "Amend", "", "Amend", PREFET_33, at(2024, 6, 1), amendment_id="AV-1", year=2024, amounts=amounts, reason="x"
    )
    assert where == {"money.co_financing:A2": "amounts.A2", "money.ceiling:": ""}


def test_a_changed_fiche_of_a_reported_year_is_refused_at_the_value_changed() -> None:
    c = bordeaux_in_2025()
    spent = {a: 1_000 * EUR for a in c.state.actions}
    c.do("SubmitExecutionReport", BORDEAUX_COLL, at(2025, 2, 10), year=2024, etat_spent=spent, collectivite_spent=spent)
    a1 = c.state.actions["A1"]
    retitled = a1.model_copy(update={"title": "Un autre intitulé"})
    where = placed(
        c,
        "AmendChangeAction",
        "A1",
        "Amend",
        PREFET_33,
        at(2025, 3, 1),
        amendment_id="AV-1",
        year=2025,
        amounts={},
        terms={"changed_actions": [retitled]},
        reason="x",
    )
    assert where == {"action.reported_frozen:A1": "terms.changed_actions.0.title"}


def test_spending_above_the_programme_is_refused_at_the_fiches_input() -> None:
    c = bordeaux_in_execution()
    review = placed(
        c,
        "RecordCommitteeReview",
        "",
        "RecordCommitteeReview",
        COMMISSAIRE_75,
        at(2024, 11, 20),
        year=2024,
        review_date=date(2024, 11, 18),
        findings="x",
        decision="CONTINUE",
        spending={"A1": 400_001 * EUR, "A2": 10 * EUR},
    )
    assert review == {"spending.above_programmed:A1": "spending.A1"}
    c = bordeaux_in_2025()
    spent = {a: 1_000 * EUR for a in c.state.actions} | {"A3": 500_001 * EUR}
    report = placed(
        c,
        "SubmitExecutionReport",
        "",
        "SubmitExecutionReport",
        BORDEAUX_COLL,
        at(2025, 2, 10),
        year=2024,
        etat_spent=spent,
        collectivite_spent={a: 1_000 * EUR for a in c.state.actions},
    )
    assert report == {"spending.above_programmed:A3": "etat_spent.A3"}


def test_an_indicator_without_a_target_is_refused_at_that_indicator() -> None:
    c = bordeaux_in_execution("proposed")
    fiche = action("A9", Axis.ENFANCE, 1)
    first = fiche.indicators[0]
    second = first.model_copy(update={"code": "IND2", "targets": {2024: 1}})
    fiche = fiche.model_copy(update={"indicators": (first, second)})
    where = placed(c, "AddAction", "", "AddAction", PREFET_33, at(2024, 1, 10), action=fiche)
    assert where == {"indicator.target_missing:": "action.indicators.1"}
