"""The acts a contract waits for (issue 22, item 7), each with its due date and lateness from the domain's deadlines:
Bordeaux taken over in December 2026 (one committee in 2024, then nothing) waits for reviews, reports, the mid-term
evaluation and next year's renewal; once the renewal is proposed it waits for each party's signature instead."""

from __future__ import annotations

from datetime import date

import pytest

from domain.deadlines import DeadlineKind
from domain.errors import LifecycleViolation
from domain.policy import DEFAULT_POLICY
from domain.state import Status
from domain.todo import waiting_acts
from domain.values import Avenant, AvenantKind, Party
from tests.unit.builders import PREFET_33, SYSTEM, at, bordeaux_in_execution, bordeaux_suspended
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
        ("Amend", 2026),  # 2026's renewal was missed: its money is still set by an avenant of 2026
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


def test_a_missed_renewal_of_the_running_year_waits_as_an_avenant_of_that_year() -> None:
    # Found by a user walk: the renewal for 2026 shown missed on the contract's page, and in nobody's À traiter. 2026
    # opened without it; its amounts still move by an avenant of 2026, signable until 31 December 2026. 2025's renewal
    # was missed too, but 2025 is over: its money is frozen, nothing is left to do for it.
    state = bordeaux()
    acts = waiting_acts(state, DEFAULT_POLICY, TODAY)
    missed = [a for a in acts if a.missed is DeadlineKind.RENEWAL]
    assert [(a.kind, a.year, a.due, a.party) for a in missed] == [("Amend", 2026, date(2025, 12, 31), Party.ETAT)]
    assert missed[0].late_days == (TODAY - date(2025, 12, 31)).days
    # Once an avenant of 2026 is proposed, its signatures wait instead, due when the decider stops taking them.
    amendment = Avenant(avenant_id="AV-2026", kind=AvenantKind.AMENDMENT, year=2026, amounts={}, reason="2026")
    acts = waiting_acts(state.model_copy(update={"avenants": {"AV-2026": amendment}}), DEFAULT_POLICY, TODAY)
    assert not [a for a in acts if a.missed is not None]
    signatures = [a for a in acts if a.kind == "SignAvenant"]
    assert {(a.party, a.due, a.days_left) for a in signatures} == {
        (Party.ETAT, date(2026, 12, 31), 30),
        (Party.COLLECTIVITE, date(2026, 12, 31), 30),
    }


def test_an_avenant_signature_is_due_the_last_day_the_decider_takes_it() -> None:
    """The due date À traiter shows is the decider's own limit (one source: ``avenant_signature_due``): an amendment
    of 2024 is signed on 31 December 2024, not the day after; a renewal for 2025 by 31 December 2024, and not once
    2025 has opened — then no signature of it waits for anyone, rather than one "sans date limite"."""
    contract = bordeaux_in_execution("reviewed")
    a1 = {"A1": {"etat": 41_000_000, "collectivite": 41_000_000}}
    contract.do("Amend", PREFET_33, at(2024, 11, 21), amendment_id="AV-1", year=2024, amounts=a1, reason="ajustement")
    contract.do("Renew", PREFET_33, at(2024, 11, 25), year=2025, amounts=a1)
    acts = waiting_acts(contract.state, DEFAULT_POLICY, date(2024, 12, 1))
    due = {(a.avenant_id, a.party): a.due for a in acts if a.kind == "SignAvenant"}
    assert due == {
        ("AV-1", Party.ETAT): date(2024, 12, 31),
        ("AV-1", Party.COLLECTIVITE): date(2024, 12, 31),
        ("renewal-2025", Party.ETAT): date(2024, 12, 31),
        ("renewal-2025", Party.COLLECTIVITE): date(2024, 12, 31),
    }
    # 2 January 2025, 2025 not opened yet: the renewal still signable, two days late; the amendment of 2024 no more.
    late = waiting_acts(contract.state, DEFAULT_POLICY, date(2025, 1, 2))
    assert {(a.avenant_id, a.late_days) for a in late if a.kind == "SignAvenant"} == {("renewal-2025", 2)}
    sign = {"avenant_id": "AV-1", "party": "etat", "signatory": "Préfet de la Gironde"}
    with pytest.raises(LifecycleViolation):
        contract.decide("SignAvenant", PREFET_33, at(2025, 1, 1), **sign)
    assert contract.decide("SignAvenant", PREFET_33, at(2024, 12, 31), **sign)
    contract.do("OpenProgrammeYear", SYSTEM, at(2025, 1, 1), year=2025)
    with pytest.raises(LifecycleViolation):
        contract.decide("SignAvenant", PREFET_33, at(2025, 1, 2), **sign | {"avenant_id": "renewal-2025"})
    after = waiting_acts(contract.state, DEFAULT_POLICY, date(2025, 1, 2))
    assert not [a for a in after if a.kind == "SignAvenant"]  # neither can be signed any more


def test_what_else_is_owed_leads_to_the_act_that_can_still_be_done() -> None:
    # A métropole's contract proposed with no fiche, its signature deadline passed: the fiches come first (either party).
    proposed = bordeaux_in_execution("proposed").state.model_copy(update={"actions": {}})
    acts = waiting_acts(proposed, DEFAULT_POLICY, TODAY)
    assert [(a.kind, a.due) for a in acts] == [("AddAction", date(2024, 3, 31))] and acts[0].late_days > 900
    # Suspended, the renewal it owes cannot be proposed: the resumption waits (the commissaire's), due with it.
    suspended = bordeaux_suspended().state
    acts = waiting_acts(suspended, DEFAULT_POLICY, date(2024, 12, 1))
    resume = [a for a in acts if a.kind == "Resume"]
    assert [(a.due, a.deadline) for a in resume] == [(date(2024, 12, 31), DeadlineKind.RENEWAL)]
    assert not [a for a in acts if a.kind == "Renew"]


def test_a_closing_contract_with_every_report_in_waits_for_its_closure() -> None:
    from tests.unit.test_roles import closing_ready

    state = closing_ready().state
    assert state.status is Status.CLOSING
    acts = waiting_acts(state, DEFAULT_POLICY, date(2028, 2, 2))
    assert [(a.kind, a.due) for a in acts if a.kind == "CloseContract"] == [("CloseContract", None)]  # no date owed
    # A report still missing comes first: the closure waits for it (the decider refuses it before).
    missing = state.model_copy(
        update={"years": {**state.years, 2027: state.year(2027).model_copy(update={"report": None})}}
    )
    kinds = [a.kind for a in waiting_acts(missing, DEFAULT_POLICY, date(2028, 2, 2))]
    assert "SubmitExecutionReport" in kinds and "CloseContract" not in kinds
