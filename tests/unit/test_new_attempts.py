"""When a territory's new attempt may start (issue 24, defects 10 and 11): only once its earlier contract is résilié
(signed, half-signed or not) or closed, and dated on or after the day it ended."""

from __future__ import annotations

from datetime import date

import pytest

from domain.attempts import check_new_attempt
from domain.errors import DomainError
from domain.events import ContractClosed
from domain.evolve import evolve
from domain.state import Status
from domain.values import Balance
from pacte.web.messages import RULES
from tests.unit.builders import BORDEAUX_COLL, PREFET_33, SYSTEM, at, bordeaux_in_execution, bordeaux_suspended


def half_signed_terminated_on(day: date):  # type: ignore[no-untyped-def]
    c = bordeaux_in_execution("deliberated")
    c.do("SignContract", PREFET_33, at(2024, 3, 1), party="etat", signatory="Préfet de la Gironde")
    assert len(c.state.signatures) == 1
    c.do("Terminate", BORDEAUX_COLL, at(day.year, day.month, day.day), reason="Changement d'exécutif")
    assert c.state.status is Status.TERMINATED
    return c.state


def refusal(earlier, day: date) -> DomainError:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as caught:
        check_new_attempt(earlier, day)
    error = caught.value
    assert error.rule in RULES and error.params
    return error


def test_a_territory_with_no_earlier_contract_may_start_one() -> None:
    check_new_attempt(None, date(2024, 1, 10))


def test_a_half_signed_contract_resilie_lets_a_new_attempt_start_from_the_day_it_ended() -> None:
    earlier = half_signed_terminated_on(date(2024, 5, 15))
    assert earlier.ended_on == date(2024, 5, 15)
    check_new_attempt(earlier, date(2024, 5, 15))
    check_new_attempt(earlier, date(2024, 9, 1))


def test_a_new_attempt_dated_before_the_earlier_contract_ended_is_refused_at_its_date() -> None:
    earlier = half_signed_terminated_on(date(2024, 5, 15))
    error = refusal(earlier, date(2024, 5, 14))
    assert (error.field, error.rule) == ("occurred_at", "attempt.before_earlier_end")
    assert error.params["end_date"] == "2024-05-15" and error.params["contract"] == "cls-243300316"
    # before it was even proposed (1 December 2023): refused all the same
    assert refusal(earlier, date(2023, 11, 1)).rule == "attempt.before_earlier_end"


def test_a_fully_signed_contract_resilie_lets_a_new_attempt_start() -> None:
    c = bordeaux_in_execution()
    c.do("Terminate", PREFET_33, at(2024, 10, 2), reason="Désaccord")
    check_new_attempt(c.state, date(2024, 10, 2))
    assert refusal(c.state, date(2024, 10, 1)).field == "occurred_at"


@pytest.mark.parametrize("until", ["proposed", "deliberated", "in_execution"])
def test_a_new_attempt_while_the_earlier_contract_runs_is_refused_at_the_territory(until: str) -> None:
    earlier = bordeaux_in_execution(until).state
    error = refusal(earlier, date(2025, 6, 1))
    assert (error.field, error.code, error.rule) == ("territory", "already_exists", "attempt.earlier_live")
    assert error.params == {"contract": "cls-243300316", "status": earlier.status.value}


def test_a_suspended_contract_is_still_live() -> None:
    c = bordeaux_suspended()
    assert c.state.status is Status.SUSPENDED
    assert refusal(c.state, date(2025, 1, 1)).rule == "attempt.earlier_live"


def test_a_closed_contract_lets_a_new_attempt_start_from_its_closing() -> None:
    state = bordeaux_in_execution().state
    closed = evolve(
        state,
        ContractClosed(
            contract_id=state.contract_id,
            actor=SYSTEM,
            request_id="close",
            occurred_at=at(2028, 3, 20),
            balance=Balance(
                programmed_etat=0, used_etat=0, recoverable_etat=0, refaction_applied=0, paid_etat=0, reversement=0
            ),
        ),
    )
    assert (closed.status, closed.ended_on) == (Status.CLOSED, date(2028, 3, 20))
    check_new_attempt(closed, date(2028, 3, 20))
    assert refusal(closed, date(2028, 3, 19)).rule == "attempt.before_earlier_end"
