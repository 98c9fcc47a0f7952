"""An attempt that starts late owes what follows from its own dates (issue 24, the late attempt's deadlines): a
deadline that passed before the contract was proposed (the signature), or before it was signed (the mid-term
evaluation, a renewal due before the signature), could never be met and is not owed. Every other deadline follows
from its own dates. The first rules (``order_rules`` 1, what recorded histories replay) recorded such a miss."""

from __future__ import annotations

from datetime import date

from domain.deadlines import DeadlineKind, pending_deadlines
from domain.evolve import fold
from domain.policy import DEFAULT_POLICY, Policy
from tests.unit.builders import BORDEAUX, BORDEAUX_ACTIONS, BORDEAUX_COLL, COMMISSAIRE_75, EUR, PREFET_33, Contract, at
from tests.unit.test_facts_in_any_order import missed, run_calendar


def second_attempt(proposed: date, policy: Policy | None = None) -> Contract:
    c = Contract("cls-243300316-2", policy)
    c.do(
        "ProposeContract",
        PREFET_33,
        at(proposed.year, proposed.month, proposed.day),
        territory_id=BORDEAUX,
        annual_ceiling=1_500_000 * EUR,
        draft_actions=BORDEAUX_ACTIONS,
        replaces="cls-243300316",
    )
    return c


def test_a_new_attempt_proposed_on_1_june_2024_has_not_missed_the_signature_deadline_of_31_march() -> None:
    c = second_attempt(date(2024, 6, 1))
    assert [d.kind for d in pending_deadlines(c.state, c.policy)] == []
    assert run_calendar(c, at(2024, 6, 2)) == [] and missed(c) == set()


def test_under_the_first_rules_it_was_recorded_missed_at_once() -> None:
    c = second_attempt(date(2024, 6, 1), DEFAULT_POLICY)
    run_calendar(c, at(2024, 6, 2))
    assert missed(c) == {("signature", None)}


def test_a_contract_proposed_on_the_deadline_still_owes_it() -> None:
    c = second_attempt(date(2024, 3, 31))
    assert [d.kind for d in pending_deadlines(c.state, c.policy)] == [DeadlineKind.SIGNATURE]
    run_calendar(c, at(2024, 4, 2))
    assert missed(c) == {("signature", None)}


def test_every_other_deadline_of_a_late_attempt_follows_from_its_own_dates() -> None:
    """Signed in September 2024, the late attempt owes the committee review of 2024 by 31 December, the renewal for
    2025 by 31 December, the 2024 report by 31 March 2025; nothing before its signature."""
    c = second_attempt(date(2024, 6, 1))
    c.do(
        "RecordDeliberation",
        BORDEAUX_COLL,
        at(2024, 7, 10),
        deliberation={"body": "assemblee", "voted_on": date(2024, 7, 9), "reference": "DEL-2024-40"},
    )
    c.do("SignContract", PREFET_33, at(2024, 9, 2), party="etat", signatory="Préfet de la Gironde")
    c.do("SignContract", BORDEAUX_COLL, at(2024, 9, 3), party="collectivite", signatory="Président")
    assert missed(c) == set()
    due = {(d.kind.value, d.year): d.due for d in pending_deadlines(c.state, c.policy)}
    assert due == {
        ("committee_review", 2024): date(2024, 12, 31),
        ("renewal", 2025): date(2024, 12, 31),
        ("mid_term_evaluation", None): date(2026, 6, 30),
    }
    c.do(
        "RecordCommitteeReview",
        COMMISSAIRE_75,
        at(2024, 11, 20),
        year=2024,
        review_date=date(2024, 11, 18),
        findings="Actions lancées",
        decision="CONTINUE",
    )
    run_calendar(c, at(2025, 4, 2))
    assert missed(c) == {("renewal", 2025), ("execution_report", 2024)}
    assert fold(c.events) == c.state


def test_a_contract_signed_on_31_december_2025_owes_the_renewal_due_that_day_only_if_it_could_meet_it() -> None:
    """The renewal for 2026 is due on 31 December 2025: a contract signed that day could still meet it (a review and a
    renewal the same day), so it is owed; the mid-term evaluation of 30 June 2026 too."""
    c = second_attempt(date(2025, 10, 1))
    c.do(
        "RecordDeliberation",
        BORDEAUX_COLL,
        at(2025, 11, 10),
        deliberation={"body": "assemblee", "voted_on": date(2025, 11, 9), "reference": "DEL-2025-40"},
    )
    c.do("SignContract", PREFET_33, at(2025, 12, 30), party="etat", signatory="Préfet de la Gironde")
    c.do("SignContract", BORDEAUX_COLL, at(2025, 12, 31), party="collectivite", signatory="Président")
    kinds = {(d.kind.value, d.year) for d in pending_deadlines(c.state, c.policy)}
    assert ("renewal", 2026) in kinds and ("committee_review", 2025) in kinds
