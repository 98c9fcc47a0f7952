"""Rules that hold whatever the order facts arrive in (issue 24): a fact recorded late that removes an obligation,
the calendar brought up to a command's date before it is decided.

Each case is decided by the rules in code (``policy.in_code()``: ``order_rules`` 2) and, where the first rules
decided otherwise, by those too (``DEFAULT_POLICY``: version 1, what recorded histories replay)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from domain.axes import Axis
from domain.calendar import calendar_until
from domain.commands import Command
from domain.deadlines import pending_deadlines
from domain.decider import decide
from domain.errors import DomainError
from domain.events import Event
from domain.evolve import fold
from domain.policy import DEFAULT_POLICY, Policy, in_code
from domain.state import Status
from domain.timetravel import state_as_of
from domain.values import Indicator
from tests.unit.builders import (
    BORDEAUX_ACTIONS,
    BORDEAUX_COLL,
    COMMISSAIRE_75,
    EUR,
    PREFET_33,
    Contract,
    action,
    amounts,
    at,
    bordeaux_in_execution,
    collectivite,
    command,
    commissaire,
    prefet,
)


def run_calendar(c: Contract, now: datetime) -> list[Event]:
    """The workflow's timers, run up to ``now``."""
    events, c.state = calendar_until(c.state, c.policy, now, lambda cmd, s: decide(cmd, s, c.policy))
    c.events.extend(events)
    return events


def typed(c: Contract, kind: str, actor: Any, when: datetime, entered_at: datetime, **fields: Any) -> list[Event]:
    cmd: Command = command(kind, c.contract_id, actor, when, **fields).model_copy(update={"entered_at": entered_at})
    return c.send(cmd)


def missed(c: Contract) -> set[tuple[str, int | None]]:
    return {(m.deadline, m.year) for m in c.state.missed_deadlines}


def bordeaux(until: str = "in_execution", policy: Policy | None = None) -> Contract:
    c = bordeaux_in_execution(until)
    if policy is not None:  # the same facts, decided by the rules given
        again = Contract(c.contract_id, policy)
        again.events, again.state = c.events, c.state
        return again
    return c


# --- 1. a late fact that removes an obligation ------------------------------------------------------------------------


def test_a_resiliation_dated_before_a_report_deadline_withdraws_the_missed_report() -> None:
    c = bordeaux("reviewed")
    run_calendar(c, at(2025, 4, 5))
    assert ("execution_report", 2024) in missed(c)
    report_miss = next(m for m in c.state.missed_deadlines if m.deadline == "execution_report")
    events = typed(c, "Terminate", PREFET_33, at(2025, 3, 30), at(2025, 4, 5), reason="fin")
    withdrawn = [e for e in events if e.type == "DeadlineMissedWithdrawn"]
    assert [(e.deadline, e.withdrawn_version, e.met_on) for e in withdrawn] == [  # type: ignore[union-attr]
        ("execution_report", report_miss.version, None)
    ]
    assert ("execution_report", 2024) not in missed(c)
    assert ("renewal", 2025) in missed(c)  # due 31 December 2024, the contract still ran then: really missed
    assert c.state.status is Status.TERMINATED
    assert fold(c.events) == c.state
    assert ("execution_report", 2024) not in {
        (m.deadline, m.year) for m in state_as_of(c.events, date(2025, 5, 1)).missed_deadlines
    }


def test_under_the_first_rules_the_false_miss_stayed() -> None:
    """What recorded histories decided (and replay): the defect, kept for them only."""
    c = bordeaux("reviewed", DEFAULT_POLICY)
    run_calendar(c, at(2025, 4, 5))
    typed(c, "Terminate", PREFET_33, at(2025, 3, 30), at(2025, 4, 5), reason="fin")
    assert ("execution_report", 2024) in missed(c)


def test_a_resiliation_before_the_signature_deadline_withdraws_the_missed_signature() -> None:
    c = bordeaux("deliberated")
    run_calendar(c, at(2024, 4, 5))
    assert ("signature", None) in missed(c)
    typed(c, "Terminate", BORDEAUX_COLL, at(2024, 3, 30), at(2024, 4, 5), reason="abandon")
    assert ("signature", None) not in missed(c)
    assert fold(c.events) == c.state


def test_a_resiliation_of_29_june_2026_withdraws_the_missed_mid_term_evaluation_only() -> None:
    c = bordeaux("reviewed")
    run_calendar(c, at(2026, 7, 5))
    assert ("mid_term_evaluation", None) in missed(c)
    before = missed(c) - {("mid_term_evaluation", None)}
    typed(c, "Terminate", PREFET_33, at(2026, 6, 29), at(2026, 7, 5), reason="fin")
    assert missed(c) == before  # the misses due before 29 June were really missed
    assert fold(c.events) == c.state


def test_a_renewal_missed_before_a_late_resiliation_stays_missed() -> None:
    c = bordeaux("reviewed")
    run_calendar(c, at(2026, 1, 10))
    assert ("renewal", 2026) in missed(c)
    typed(c, "Terminate", PREFET_33, at(2026, 1, 5), at(2026, 1, 10), reason="fin")
    assert ("renewal", 2026) in missed(c)


def test_a_resiliation_dated_before_a_year_opening_withdraws_the_opening_and_what_followed() -> None:
    c = bordeaux("reviewed")
    run_calendar(c, at(2026, 1, 5))
    assert c.state.current_year == 2026
    opening = len(c.events) - next(i for i, e in enumerate(reversed(c.events)) if e.type == "ProgrammeYearOpened")
    events = typed(c, "Terminate", PREFET_33, at(2025, 12, 20), at(2026, 1, 5), reason="fin")
    kinds = [e.type for e in events]
    assert kinds[0] == "ContractTerminated" and "CalendarFactWithdrawn" in kinds
    withdrawal = next(e for e in events if e.type == "CalendarFactWithdrawn")
    assert (withdrawal.withdrawn_type, withdrawal.year, withdrawal.withdrawn_version) == (  # type: ignore[union-attr]
        "ProgrammeYearOpened",
        2026,
        opening,
    )
    assert c.state.status is Status.TERMINATED and c.state.current_year == 2025
    assert not c.state.year(2026).opened
    # The misses due on 31 December 2025 were not owed by a contract résilié on the 20th.
    assert not {("committee_review", 2025), ("renewal", 2026)} & missed(c)
    assert fold(c.events) == c.state
    # The balance settles the years the contract ran: 2024 and 2025, not 2026.
    assert c.state.balance is not None
    assert c.state.balance.programmed_etat == 2 * sum(a.amounts[2024].etat for a in BORDEAUX_ACTIONS)


def test_under_the_first_rules_a_resiliation_undoing_a_year_opening_was_refused() -> None:
    c = bordeaux("reviewed", DEFAULT_POLICY)
    run_calendar(c, at(2026, 1, 5))
    with pytest.raises(DomainError) as info:
        typed(c, "Terminate", PREFET_33, at(2025, 12, 20), at(2026, 1, 5), reason="fin")
    assert info.value.field == "occurred_at" and "ProgrammeYearOpened" in info.value.message


D33 = "D33"
D33_COLL = collectivite(D33)


def departement() -> Contract:
    """The Gironde's contract, signed in March 2024: three actions of 100 000 € a year."""
    c = Contract("cls-d33")
    actions = (
        action("A1", Axis.ENFANCE, 100_000),
        action("A2", Axis.GRANDE_EXCLUSION, 100_000),
        action("A3", Axis.TRANSITION_ECOLOGIQUE, 100_000),
    )
    c.do(
        "ProposeContract",
        PREFET_33,
        at(2023, 12, 1),
        territory_id=D33,
        annual_ceiling=400_000 * EUR,
        draft_actions=actions,
    )
    c.do(
        "RecordDeliberation",
        D33_COLL,
        at(2024, 2, 15),
        deliberation={"body": "assemblee", "voted_on": date(2024, 2, 14), "reference": "DEL"},
    )
    c.do("SignContract", PREFET_33, at(2024, 3, 1), party="etat", signatory="P")
    c.do("SignContract", D33_COLL, at(2024, 3, 5), party="collectivite", signatory="C")
    return c


def test_an_avenant_bringing_a_year_to_zero_typed_late_withdraws_the_missed_report() -> None:
    c = departement()
    run_calendar(c, at(2026, 4, 5))
    assert ("execution_report", 2025) in missed(c)
    zero = {aid: {"etat": 0, "collectivite": 0} for aid in ("A1", "A2", "A3")}
    when, today = at(2025, 12, 20), at(2026, 4, 5)
    typed(c, "Amend", PREFET_33, when, today, amendment_id="ZERO", year=2025, amounts=zero, reason="gel")
    typed(c, "SignAvenant", PREFET_33, when, today, avenant_id="ZERO", party="etat")
    events = typed(c, "SignAvenant", D33_COLL, when, today, avenant_id="ZERO", party="collectivite")
    assert "AvenantConcluded" in [e.type for e in events]
    assert c.state.etat_total(2025) == 0
    assert ("execution_report", 2025) not in missed(c)  # nothing to report on a year without État money
    assert ("execution_report", 2024) in missed(c)  # 2024 was funded: its report was owed and missed
    assert fold(c.events) == c.state


def test_a_review_typed_late_still_withdraws_its_miss_as_met_with_its_date() -> None:
    c = bordeaux()
    run_calendar(c, at(2025, 1, 5))
    review = {"year": 2024, "review_date": date(2024, 12, 15), "findings": "ok", "decision": "CONTINUE"}
    events = typed(c, "RecordCommitteeReview", COMMISSAIRE_75, at(2024, 12, 15), at(2025, 1, 5), **review)
    assert [(e.type, getattr(e, "met_on", None)) for e in events] == [
        ("CommitteeReviewRecorded", None),
        ("DeadlineMissedWithdrawn", date(2024, 12, 15)),
    ]


# --- 2. the calendar brought up to a command's date before it is decided ----------------------------------------------


def on_time_and_unrecorded(
    setup: Any, kind: str, actor: Any, when: datetime, timers_until: datetime, **fields: Any
) -> tuple[Contract, Contract]:
    """The same command decided after the timers ran up to its date, and on a contract whose timers stopped at
    ``timers_until`` (a worker down, a timer not fired yet)."""
    on_time, unrecorded = setup(), setup()
    run_calendar(on_time, when)
    run_calendar(unrecorded, timers_until)
    for c in (on_time, unrecorded):
        typed(c, kind, actor, when, when, **fields)
    return on_time, unrecorded


def with_renewal_half_signed() -> Contract:
    c = bordeaux("reviewed")
    c.do("Renew", PREFET_33, at(2024, 12, 1), year=2025, amounts={"A1": BORDEAUX_ACTIONS[0].amounts[2025]})
    c.do("SignAvenant", PREFET_33, at(2024, 12, 10), avenant_id="renewal-2025", party="etat")
    return c


def test_a_worker_down_over_new_year_a_renewal_signed_on_3_january_is_judged_as_on_time() -> None:
    """Typed on its day after the timers, the renewal's signature of 3 January 2025 comes after 2025 opened without
    it: refused, and the renewal is missed. A contract whose timers stopped on 10 December decides the same (it used
    to conclude the renewal, with no miss recorded)."""
    on_time, stopped = with_renewal_half_signed(), with_renewal_half_signed()
    run_calendar(on_time, at(2025, 1, 3))
    assert ("renewal", 2025) in missed(on_time)
    errors = []
    for c in (on_time, stopped):
        before = c.state
        with pytest.raises(DomainError) as info:
            typed(
                c,
                "SignAvenant",
                BORDEAUX_COLL,
                at(2025, 1, 3),
                at(2025, 1, 3),
                avenant_id="renewal-2025",
                party="collectivite",
            )
        assert c.state == before  # refused: nothing recorded, not even the calendar's facts it would have brought in
        errors.append((info.value.code, info.value.field, info.value.message))
    assert errors[0] == errors[1]
    run_calendar(stopped, at(2025, 1, 3))
    assert business(stopped) == business(on_time)


def test_a_resiliation_dated_2_january_settles_the_year_it_falls_in() -> None:
    on_time, unrecorded = on_time_and_unrecorded(
        lambda: bordeaux("reviewed"), "Terminate", PREFET_33, at(2025, 1, 2), at(2024, 12, 1), reason="fin"
    )
    yearly = sum(a.amounts[2024].etat for a in BORDEAUX_ACTIONS)
    assert unrecorded.state.balance is not None
    assert unrecorded.state.balance.programmed_etat == 2 * yearly == 2_800_000 * EUR
    assert business(unrecorded) == business(on_time)


@pytest.mark.parametrize(
    ("setup", "kind", "actor", "when", "fields", "deadline"),
    [
        (
            lambda: bordeaux("reviewed"),
            "SubmitExecutionReport",
            BORDEAUX_COLL,
            at(2025, 4, 2),
            {"year": 2024, "etat_spent": {"A1": 1}, "collectivite_spent": {"A1": 1}},
            ("execution_report", 2024),
        ),
        (
            lambda: signed_by_etat(),
            "SignContract",
            BORDEAUX_COLL,
            at(2024, 4, 2),
            {"party": "collectivite", "signatory": "Président"},
            ("signature", None),
        ),
        (
            lambda: bordeaux("reviewed"),
            "RecordMidTermEvaluation",
            COMMISSAIRE_75,
            at(2026, 7, 3),
            {"evaluations": {a.action_id: "ok" for a in BORDEAUX_ACTIONS}},
            ("mid_term_evaluation", None),
        ),
    ],
    ids=["report-2-april", "signature-2-april-2024", "mid-term-3-july-2026"],
)
def test_an_obligation_met_the_day_after_its_deadline_before_its_timer_fired_is_missed(
    setup: Any, kind: str, actor: Any, when: datetime, fields: dict[str, Any], deadline: tuple[str, int | None]
) -> None:
    c = setup()
    due = {"execution_report": date(2025, 3, 31), "signature": date(2024, 3, 31)}.get(deadline[0], date(2026, 6, 30))
    run_calendar(c, at(due.year, due.month, due.day, 20))  # the timers ran up to the deadline's day, no further
    assert deadline not in missed(c)
    typed(c, kind, actor, when, when, **fields)
    assert deadline in missed(c)
    assert fold(c.events) == c.state


def signed_by_etat() -> Contract:
    c = bordeaux("deliberated")
    c.do("SignContract", PREFET_33, at(2024, 3, 1), party="etat", signatory="Préfet de la Gironde")
    return c


def business(c: Contract) -> dict[str, Any]:
    from tests.unit.test_business_time import business as of_state

    return of_state(c.state)


# --- 4. what a late signer owes ----------------------------------------------------------------------------------------


def signed_on(day: date, policy: Policy | None = None) -> Contract:
    c = bordeaux("deliberated", policy)
    c.do("SignContract", PREFET_33, at(day.year, day.month, day.day, 9), party="etat", signatory="P")
    c.do("SignContract", BORDEAUX_COLL, at(day.year, day.month, day.day, 11), party="collectivite", signatory="C")
    return c


def test_a_contract_signed_after_the_mid_term_deadline_owes_no_mid_term_evaluation() -> None:
    c = signed_on(date(2026, 9, 2))
    run_calendar(c, at(2027, 1, 5))
    assert ("mid_term_evaluation", None) not in missed(c)
    assert "mid_term_evaluation" not in {d.kind.value for d in pending_deadlines(c.state, c.policy)}
    assert ("signature", None) in missed(c)  # a métropole signing in 2026 did miss the signature deadline
    first = signed_on(date(2026, 9, 2), DEFAULT_POLICY)  # the first rules, for the histories they decided
    run_calendar(first, at(2027, 1, 5))
    assert ("mid_term_evaluation", None) in missed(first)


def test_a_contract_signed_on_the_mid_term_deadline_owes_it() -> None:
    c = signed_on(date(2026, 6, 30))
    run_calendar(c, at(2026, 7, 5))
    assert ("mid_term_evaluation", None) in missed(c)


# --- 5. the target rule wherever money is set --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["Amend", "Renew"])
def test_an_avenant_cannot_fund_a_year_an_indicator_has_no_target_for(kind: str) -> None:
    c = Contract("cls-d33")
    only_2024 = action(
        "A1",
        Axis.ENFANCE,
        100_000,
        amounts=amounts(100_000, years=(2024,)),
        indicators=(Indicator(code="beneficiaires", label="Bénéficiaires", baseline=10, targets={2024: 20}),),
    )
    others = (action("A2", Axis.GRANDE_EXCLUSION, 100_000), action("A3", Axis.TRANSITION_ECOLOGIQUE, 100_000))
    c.do(
        "ProposeContract",
        PREFET_33,
        at(2023, 12, 1),
        territory_id=D33,
        annual_ceiling=400_000 * EUR,
        draft_actions=(only_2024, *others),
    )
    c.do(
        "RecordDeliberation",
        D33_COLL,
        at(2024, 2, 15),
        deliberation={"body": "assemblee", "voted_on": date(2024, 2, 14), "reference": "DEL"},
    )
    c.do("SignContract", PREFET_33, at(2024, 3, 1), party="etat", signatory="P")
    c.do("SignContract", D33_COLL, at(2024, 3, 5), party="collectivite", signatory="C")
    money = {"A1": {"etat": 50_000 * EUR, "collectivite": 50_000 * EUR}}
    if kind == "Renew":
        c.do(
            "RecordCommitteeReview",
            commissaire("75"),
            at(2024, 10, 1),
            year=2024,
            review_date=date(2024, 10, 1),
            findings="f",
            decision="CONTINUE",
        )
        fields: dict[str, Any] = {"year": 2025, "amounts": money}
    else:
        fields = {"amendment_id": "PLUS", "year": 2025, "amounts": money, "reason": "r"}
    before = c.state
    with pytest.raises(DomainError) as info:
        c.do(kind, PREFET_33, at(2024, 11, 1), **fields)
    assert info.value.field == f"amounts.{only_2024.action_id}"  # at the fiche whose money it is
    assert "beneficiaires" in info.value.message and "2025" in info.value.message
    assert c.state == before
    # With a target for 2025, the same money is accepted.
    with_target = only_2024.model_copy(
        update={"indicators": (only_2024.indicators[0].model_copy(update={"targets": {2024: 20, 2025: 25}}),)}
    )
    if kind == "Amend":
        fields["terms"] = {"changed_actions": [with_target.model_dump(mode="json")]}
        assert c.decide(kind, PREFET_33, at(2024, 11, 1), **fields)


# --- 6. a reported year's actions are frozen whole ---------------------------------------------------------------------


def reported_2024() -> Contract:
    c = bordeaux("reviewed")
    run_calendar(c, at(2025, 2, 1))
    spent = {a.action_id: a.amounts[2024].etat for a in BORDEAUX_ACTIONS}
    c.do("SubmitExecutionReport", BORDEAUX_COLL, at(2025, 2, 1), year=2024, etat_spent=spent, collectivite_spent=spent)
    return c


@pytest.mark.parametrize(
    "change",
    [
        {"public": "tous publics"},
        {"axis": Axis.EMPLOI},
        {"title": "Une autre fiche"},
        {
            "indicators": (
                Indicator(
                    code="beneficiaires",
                    label="Bénéficiaires",
                    baseline=100,
                    targets={2024: 50, 2025: 120, 2026: 120, 2027: 120},
                ),
            )
        },
    ],
    ids=["public", "axis", "title", "target-2024"],
)
def test_an_avenant_cannot_change_what_was_funded_in_a_reported_year(change: dict[str, Any]) -> None:
    """Refused at the value changed (the form's input), not at the fiche's first indicator."""
    c = reported_2024()
    changed = BORDEAUX_ACTIONS[0].model_copy(update=change)
    before = c.state
    with pytest.raises(DomainError) as info:
        c.do(
            "Amend",
            PREFET_33,
            at(2025, 2, 10),
            amendment_id="FICHE",
            year=2025,
            terms={"changed_actions": [changed]},
            reason="r",
        )
    at_value = {"indicators": "indicators.0"}.get(next(iter(change)), next(iter(change)))
    assert (info.value.code, info.value.field) == ("lifecycle_violation", f"terms.changed_actions.0.{at_value}")
    assert "frozen whole" in info.value.message
    assert c.state == before


def test_an_avenant_may_change_the_targets_of_the_years_to_come() -> None:
    c = reported_2024()
    a1 = BORDEAUX_ACTIONS[0]
    later = a1.indicators[0].model_copy(update={"targets": {2024: 120, 2025: 150, 2026: 160, 2027: 170}})
    changed = a1.model_copy(update={"indicators": (later,)})
    assert c.decide(
        "Amend",
        PREFET_33,
        at(2025, 2, 10),
        amendment_id="CIBLES",
        year=2025,
        terms={"changed_actions": [changed]},
        reason="r",
    )


# --- 3. a rectified signature obeys the facts after it ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("act", "moved_to"),
    [
        (lambda c: None, date(2024, 11, 20)),  # the committee review held on 18 November 2024
        (lambda c: c.do("Suspend", COMMISSAIRE_75, at(2024, 4, 10), reason="contrôle"), date(2024, 4, 20)),
        (
            lambda c: c.do(
                "Amend",
                PREFET_33,
                at(2024, 4, 15),
                amendment_id="AV",
                year=2024,
                amounts={"A1": {"etat": 450_000 * EUR, "collectivite": 450_000 * EUR}},
                reason="r",
            ),
            date(2024, 4, 20),
        ),
    ],
    ids=["after-review", "after-suspension", "after-amendment-proposed"],
)
def test_a_rectified_signature_cannot_move_after_the_facts_it_enables(act: Any, moved_to: date) -> None:
    c = bordeaux("reviewed") if moved_to.month == 11 else bordeaux()
    act(c)
    before = c.state
    with pytest.raises(DomainError) as info:
        c.do("RectifySignature", BORDEAUX_COLL, at(2024, 12, 1), party="collectivite", signed_on=moved_to, reason="r")
    assert info.value.field == "signed_on" and "needed it signed" in info.value.message
    assert c.state == before


def test_a_rectified_signature_may_move_before_the_facts_after_it() -> None:
    c = bordeaux("reviewed")
    assert c.do(
        "RectifySignature",
        BORDEAUX_COLL,
        at(2024, 12, 1),
        party="collectivite",
        signed_on=date(2024, 3, 20),
        reason="r",
    )


# --- 7. the renewal can never be blocked for good ---------------------------------------------------------------------


def test_an_amendment_cannot_take_a_renewal_id() -> None:
    c = bordeaux("reviewed")
    money = {"A1": {"etat": 450_000 * EUR, "collectivite": 450_000 * EUR}}
    for taken in ("renewal-2025", "Renewal-2026"):
        with pytest.raises(DomainError) as info:
            c.do("Amend", PREFET_33, at(2024, 11, 25), amendment_id=taken, year=2024, amounts=money, reason="r")
        assert info.value.field == "amendment_id" and "reserved" in info.value.message
    assert not c.state.avenants


def test_a_pending_renewal_is_replaced_by_the_prefets_new_proposal_and_a_concluded_one_is_not() -> None:
    c = with_renewal_half_signed()  # proposed on 1 December, signed by the État on the 10th
    more = {"A1": {"etat": 450_000 * EUR, "collectivite": 450_000 * EUR}}
    c.do("Renew", PREFET_33, at(2024, 12, 12), year=2025, amounts=more)
    renewal = c.state.avenants["renewal-2025"]
    assert renewal.signatures == () and renewal.amounts["A1"].etat == 450_000 * EUR and not renewal.concluded
    c.do("SignAvenant", PREFET_33, at(2024, 12, 13), avenant_id="renewal-2025", party="etat")
    c.do("SignAvenant", BORDEAUX_COLL, at(2024, 12, 14), avenant_id="renewal-2025", party="collectivite")
    assert c.state.year(2025).renewed and c.state.actions["A1"].amounts[2025].etat == 450_000 * EUR
    with pytest.raises(DomainError) as info:
        c.do("Renew", PREFET_33, at(2024, 12, 15), year=2025, amounts=more)
    assert info.value.field == "year" and "already proposed" in info.value.message
    assert fold(c.events) == c.state


# --- 12. the last year's review once closing ---------------------------------------------------------------------------


def test_the_2027_review_is_recorded_once_closing_and_withdraws_its_miss() -> None:
    c = bordeaux("reviewed")
    run_calendar(c, at(2028, 1, 10))
    assert c.state.status is Status.CLOSING and ("committee_review", 2027) in missed(c)
    review = {"year": 2027, "review_date": date(2027, 12, 10), "findings": "ok", "decision": "CONTINUE"}
    events = c.do("RecordCommitteeReview", COMMISSAIRE_75, at(2028, 1, 10), **review)
    assert [e.type for e in events] == ["CommitteeReviewRecorded", "DeadlineMissedWithdrawn"]
    assert ("committee_review", 2027) not in missed(c)
    with pytest.raises(DomainError) as info:  # an earlier year's review is not taken once closing
        c.do(
            "RecordCommitteeReview",
            COMMISSAIRE_75,
            at(2028, 1, 11),
            **(review | {"year": 2026, "review_date": date(2026, 12, 1)}),
        )
    assert info.value.field == "status"


def test_the_same_renewal_proposed_again_replaces_nothing() -> None:
    c = with_renewal_half_signed()
    with pytest.raises(DomainError) as info:
        c.do("Renew", PREFET_33, at(2024, 12, 12), year=2025, amounts={"A1": BORDEAUX_ACTIONS[0].amounts[2025]})
    assert "already proposed" in info.value.message
    assert c.state.avenants["renewal-2025"].signatures == ("etat",)


# --- 14. the most reviews a year may hold is a Policy value -----------------------------------------------------------


def review_many(c: Contract, n: int, first: int = 0) -> None:
    for i in range(first, first + n):
        day = date(2024, 4 + i // 28, 1 + i % 28)
        c.do(
            "RecordCommitteeReview",
            COMMISSAIRE_75,
            at(day.year, day.month, day.day),
            year=2024,
            review_date=day,
            findings="f",
            decision="CONTINUE",
        )


def test_monthly_committees_fit_and_the_most_a_year_holds_is_a_policy_value() -> None:
    c = bordeaux()
    review_many(c, 12)
    with pytest.raises(DomainError) as info:
        review_many(c, 1, first=12)
    assert info.value.field == "year" and "max_reviews_per_year" in info.value.message
    assert len(c.state.year(2024).reviews) == 12
    two = bordeaux(policy=Policy(order_rules=2, max_reviews_per_year=2))
    review_many(two, 2)
    with pytest.raises(DomainError):
        review_many(two, 1, first=2)
    with pytest.raises(ValueError):  # never above what is storable (and published)
        Policy(max_reviews_per_year=13)


# --- 8. a national scope acts for the État in nothing -----------------------------------------------------------------

NATIONAL_PREFET = prefet("*")


def test_a_national_scope_prefet_neither_terminates_nor_closes_for_the_etat() -> None:
    c = bordeaux("reviewed")
    with pytest.raises(DomainError) as info:
        c.do("Terminate", NATIONAL_PREFET, at(2024, 12, 1), reason="r")
    assert (info.value.code, info.value.field) == ("out_of_scope", "actor.scope")
    assert c.do("Terminate", PREFET_33, at(2024, 12, 1), reason="r")  # the territory's préfet does
    from tests.unit.test_roles import closing_ready

    closing = closing_ready()
    closing.policy = in_code()
    with pytest.raises(DomainError) as info:
        closing.do("CloseContract", NATIONAL_PREFET, at(2028, 3, 1))
    assert (info.value.code, info.value.field) == ("out_of_scope", "actor.scope")
    assert closing.do("CloseContract", PREFET_33, at(2028, 3, 1))


def test_a_national_scope_prefet_cannot_terminate_by_import_either() -> None:
    from domain.reprise import ImportLine, LineRefused, import_history

    c = bordeaux("reviewed")
    lines = [
        ImportLine(line=1, command=command("Terminate", c.contract_id, NATIONAL_PREFET, at(2024, 12, 1), reason="r"))
    ]
    with pytest.raises(LineRefused) as info:
        import_history(lines, c.state, c.policy, at(2025, 1, 1))
    assert (info.value.line, info.value.field) == (1, "actor.scope")


# --- 13. the réfaction chain follows business order -------------------------------------------------------------------


def test_a_report_filed_after_the_next_years_report_can_be_rectified() -> None:
    c = bordeaux("reviewed")
    run_calendar(c, at(2026, 2, 1))
    spent = {a.action_id: a.amounts[2024].etat for a in BORDEAUX_ACTIONS}
    c.do("SubmitExecutionReport", BORDEAUX_COLL, at(2026, 2, 1), year=2025, etat_spent=spent, collectivite_spent=spent)
    c.do("SubmitExecutionReport", BORDEAUX_COLL, at(2026, 2, 2), year=2024, etat_spent=spent, collectivite_spent=spent)
    less = {k: v // 2 for k, v in spent.items()}
    events = c.do(
        "RectifyExecutionReport",
        BORDEAUX_COLL,
        at(2026, 2, 3),
        year=2024,
        etat_spent=less,
        collectivite_spent=less,
        reason="r",
    )
    assert events[0].type == "ExecutionReportRectified"
    assert c.state.year(2025).refaction == sum(spent.values()) - sum(less.values())  # the réfaction follows
    assert fold(c.events) == c.state


def test_a_report_followed_by_the_next_years_report_is_settled() -> None:
    c = bordeaux("reviewed")
    run_calendar(c, at(2026, 2, 1))
    spent = {a.action_id: a.amounts[2024].etat for a in BORDEAUX_ACTIONS}
    c.do("SubmitExecutionReport", BORDEAUX_COLL, at(2026, 2, 1), year=2024, etat_spent=spent, collectivite_spent=spent)
    c.do("SubmitExecutionReport", BORDEAUX_COLL, at(2026, 2, 2), year=2025, etat_spent=spent, collectivite_spent=spent)
    with pytest.raises(DomainError) as info:
        c.do(
            "RectifyExecutionReport",
            BORDEAUX_COLL,
            at(2026, 2, 3),
            year=2024,
            etat_spent=spent,
            collectivite_spent={"A1": 0},
            reason="r",
        )
    assert info.value.field == "year"
