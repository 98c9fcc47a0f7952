"""The acts a contract waits for (issue 22, item 7), each with its due date and lateness from the domain's deadlines:
Bordeaux taken over in December 2026 (one committee in 2024, then nothing) waits for reviews, reports, the mid-term
evaluation and next year's renewal; once the renewal is proposed it waits for each party's signature instead."""

from __future__ import annotations

from datetime import date

from domain.deadlines import DeadlineKind
from domain.policy import DEFAULT_POLICY
from domain.state import Status
from domain.todo import waiting_acts
from domain.values import Avenant, AvenantKind, Party
from tests.unit.test_deadline_standing import TODAY, bordeaux


def test_a_contract_under_way_waits_for_its_overdue_and_coming_acts() -> None:
    acts = waiting_acts(bordeaux(), DEFAULT_POLICY, TODAY)
    seen = {(a.kind, a.year): a for a in acts}
    assert set(seen) == {
        ("RecordCommitteeReview", 2025),
        ("RecordCommitteeReview", 2026),
        ("SubmitExecutionReport", 2024),
        ("SubmitExecutionReport", 2025),
        ("RecordMidTermEvaluation", None),
        ("Renew", 2027),
    }
    report = seen[("SubmitExecutionReport", 2024)]
    assert report.due == date(2025, 3, 31) and report.late_days == (TODAY - date(2025, 3, 31)).days
    review = seen[("RecordCommitteeReview", 2026)]
    assert review.late_days == 0 and review.days_left == 30 and review.deadline is DeadlineKind.COMMITTEE_REVIEW
    # The renewal comes after the year's committee review, which the decider requires first.
    assert seen[("Renew", 2027)].after is DeadlineKind.COMMITTEE_REVIEW
    assert seen[("SubmitExecutionReport", 2024)].after is None
    # The latest first: the most overdue act heads the list, the acts to come follow by date.
    assert acts[0] == report and acts[-1].days_left is not None


def test_a_proposed_renewal_waits_for_the_signatures_it_lacks() -> None:
    state = bordeaux()
    renewal = Avenant(
        avenant_id="REN-2027",
        kind=AvenantKind.RENEWAL,
        year=2027,
        amounts={},
        reason="2027",
        signatures=(Party.COLLECTIVITE,),
    )
    acts = waiting_acts(state.model_copy(update={"avenants": {"REN-2027": renewal}}), DEFAULT_POLICY, TODAY)
    kinds = {(a.kind, a.party, a.avenant_id) for a in acts if a.year == 2027}
    assert kinds == {("SignAvenant", Party.ETAT, "REN-2027")}  # no second renewal, no signature twice
    sign = next(a for a in acts if a.kind == "SignAvenant")
    assert sign.due == date(2026, 12, 31) and sign.days_left == 30


def test_a_deliberated_contract_waits_for_both_signatures_and_a_proposal_for_its_deliberation() -> None:
    state = bordeaux()
    deliberated = state.model_copy(update={"status": Status.DELIBERATED, "signatures": {}, "current_year": None})
    assert {(a.kind, a.party) for a in waiting_acts(deliberated, DEFAULT_POLICY, TODAY)} == {
        ("SignContract", Party.ETAT),
        ("SignContract", Party.COLLECTIVITE),
    }
    proposed = state.model_copy(
        update={"status": Status.NEGOTIATING, "signatures": {}, "current_year": None, "deliberation": None}
    )
    acts = waiting_acts(proposed, DEFAULT_POLICY, TODAY)
    assert [a.kind for a in acts] == ["RecordDeliberation"]
    assert acts[0].due == date(2024, 3, 31) and acts[0].late_days > 900  # a métropole's signature deadline
