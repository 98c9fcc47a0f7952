"""Rules in force on the fact's business date: a rule changed in 2026 judges the facts dated 2026 and after, and leaves
the facts dated 2025 as they were judged — whether they are typed on their day, typed late or imported."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from domain.commands import Suspend
from domain.decider import decide
from domain.errors import DomainError, ValidationRefused
from domain.events import Event
from domain.evolve import fold
from domain.policy import DEFAULT_POLICY, Policy, PolicyChange
from domain.reprise import import_history, parse_line
from domain.rules import RULES
from domain.rules.declaration import amends
from domain.rules.execution import suspend
from domain.state import INITIAL_STATE, ContractState
from tests.unit.builders import (
    BORDEAUX_COLL,
    COMMISSAIRE_75,
    EUR,
    PREFET_33,
    SYSTEM,
    Contract,
    at,
    bordeaux_in_2025,
    command,
)
from tests.unit.test_business_time import bordeaux_lines

TYPED_IN_2027 = datetime(2027, 1, 11, 9, tzinfo=UTC)

# [exemple] From 1 January 2026 an amendment concluded by the party that proposes it (no second signature).
ONE_SIGNATURE_2026 = PolicyChange(
    id="amendment-one-signature-2026",
    in_force_from=date(2026, 1, 1),
    reference="instruction d'exemple du 1er décembre 2025",
    values={"amendment_requires_both_parties": False},
)
# [exemple] From 1 January 2026 the execution report of year N is due by 30 June N+1 instead of 31 March.
REPORT_BY_JUNE_2026 = PolicyChange(
    id="report-deadline-june-2026",
    in_force_from=date(2026, 1, 1),
    reference="instruction d'exemple du 1er décembre 2025",
    values={"report_deadline_month_day": (6, 30)},
)
CHANGED = Policy(changes=(ONE_SIGNATURE_2026, REPORT_BY_JUNE_2026))


def moved(euros: int) -> dict[str, Any]:
    """An amendment moving ``euros`` of État and collectivité money from A1 to A2 (within the year's amounts)."""
    return {
        "A1": {"etat": (400_000 - euros) * EUR, "collectivite": (400_000 - euros) * EUR},
        "A2": {"etat": (300_000 + euros) * EUR, "collectivite": (300_000 + euros) * EUR},
    }


def amend(year: int, when: datetime, entered_at: datetime | None = None) -> Any:
    cmd = command(
        "Amend",
        "cls-243300316",
        PREFET_33,
        when,
        amendment_id=f"AV-{year}",
        year=year,
        amounts=moved(10_000),
        reason="Réaffectation",
    )
    return cmd.model_copy(update={"entered_at": entered_at or when})


def in_2026() -> Contract:
    c = bordeaux_in_2025()
    c.policy = CHANGED
    c.do("OpenProgrammeYear", SYSTEM, at(2026, 1, 1), year=2026)
    return c


def types(events: list[Event]) -> list[str]:
    return [e.type for e in events]


# --- the policy's values, by date ------------------------------------------------------------------------------------


def test_a_value_changed_in_2026_is_in_force_from_its_date_only() -> None:
    assert CHANGED.in_force_on(date(2025, 12, 31)).amendment_requires_both_parties is True
    assert CHANGED.in_force_on(date(2026, 1, 1)).amendment_requires_both_parties is False
    assert CHANGED.in_force(date(2025, 12, 31)) == frozenset()
    assert CHANGED.in_force(date(2026, 1, 1)) == {ONE_SIGNATURE_2026.id, REPORT_BY_JUNE_2026.id}
    # A copy for one date still reads the other dates as they were; undated, it is the policy it came from.
    dated = CHANGED.in_force_on(date(2026, 6, 1))
    assert dated.in_force_on(date(2025, 6, 1)).amendment_requires_both_parties is True
    assert dated.undated() == CHANGED
    # Without a change in force, the policy itself: a policy without changes decides as before changes existed.
    assert CHANGED.in_force_on(date(2025, 6, 1)) is CHANGED
    assert DEFAULT_POLICY.in_force_on(date(2027, 6, 1)) is DEFAULT_POLICY


def test_a_years_deadline_follows_the_rules_in_force_when_that_year_opened() -> None:
    for policy in (CHANGED, CHANGED.in_force_on(date(2025, 6, 1)), CHANGED.in_force_on(date(2027, 6, 1))):
        assert policy.report_deadline(2024) == date(2025, 3, 31)
        assert policy.report_deadline(2025) == date(2026, 3, 31)  # 2025 opened under the old rule
        assert policy.report_deadline(2026) == date(2027, 6, 30)
    assert DEFAULT_POLICY.report_deadline(2026) == date(2027, 3, 31)


def test_a_change_names_only_policy_values_and_each_change_once() -> None:
    with pytest.raises(ValueError, match="changes no policy value named report_deadline"):
        Policy(changes=(ONE_SIGNATURE_2026.model_copy(update={"values": {"report_deadline": (6, 30)}}),))
    with pytest.raises(ValueError, match="an id is used twice"):
        Policy(changes=(ONE_SIGNATURE_2026, ONE_SIGNATURE_2026))


# --- a Policy value changed in 2026 ----------------------------------------------------------------------------------


def test_a_2026_rule_judges_a_fact_dated_2026_and_not_one_dated_2025() -> None:
    c = in_2026()
    # Dated 2026: concluded at once, by the rule of 2026.
    assert types(decide(amend(2026, at(2026, 2, 1)), c.state, c.policy)) == ["AvenantProposed", "AvenantConcluded"]
    # The same policy, a contract still in 2025: the 2025 fact waits for both signatures, as it did in 2025.
    c25 = bordeaux_in_2025()
    assert types(decide(amend(2025, at(2025, 6, 1)), c25.state, CHANGED)) == ["AvenantProposed"]


def test_a_fact_typed_late_is_judged_by_the_rules_of_its_date_not_of_the_day_it_is_typed() -> None:
    c25 = bordeaux_in_2025()
    typed_late = amend(2025, at(2025, 6, 1), entered_at=TYPED_IN_2027)
    assert types(decide(typed_late, c25.state, CHANGED)) == ["AvenantProposed"]  # 2025's rule, typed in 2027
    c = in_2026()
    typed_late = amend(2026, at(2026, 2, 1), entered_at=TYPED_IN_2027)
    assert types(decide(typed_late, c.state, c.policy)) == ["AvenantProposed", "AvenantConcluded"]


def review(year: int, day: date) -> dict[str, Any]:
    return {
        "type": "RecordCommitteeReview",
        "contract_id": "cls-243300316",
        "occurred_at": day.isoformat(),
        "actor": COMMISSAIRE_75.model_dump(mode="json"),
        "source": f"CR comité {year}",
        "year": year,
        "review_date": day.isoformat(),
        "findings": "Conforme",
        "decision": "CONTINUE",
    }


def amend_line(year: int, day: date) -> dict[str, Any]:
    return {
        "type": "Amend",
        "contract_id": "cls-243300316",
        "occurred_at": day.isoformat(),
        "actor": PREFET_33.model_dump(mode="json"),
        "source": f"avenant {year}",
        "amendment_id": f"AV-{year}",
        "year": year,
        "amounts": moved(10_000),
        "reason": "Réaffectation",
    }


def report_line(year: int, day: date) -> dict[str, Any]:
    spent = {"A1": 400_000 * EUR, "A2": 300_000 * EUR, "A3": 500_000 * EUR, "A4": 200_000 * EUR}
    return {
        "type": "SubmitExecutionReport",
        "contract_id": "cls-243300316",
        "occurred_at": day.isoformat(),
        "actor": BORDEAUX_COLL.model_dump(mode="json"),
        "source": f"rapport d'exécution {year}",
        "year": year,
        "etat_spent": spent,
        "collectivite_spent": spent,
    }


def imported(lines: list[dict[str, Any]], policy: Policy, now: datetime) -> tuple[list[Event], ContractState]:
    parsed = [parse_line(raw, n, PREFET_33, now) for n, raw in enumerate(lines, 1)]
    return import_history(parsed, INITIAL_STATE, policy, now)


def test_an_import_decides_each_line_by_the_rules_of_its_own_date() -> None:
    lines = [*bordeaux_lines(), amend_line(2025, date(2025, 6, 2)), amend_line(2026, date(2026, 2, 2))]
    events, state = imported(lines, CHANGED, TYPED_IN_2027)
    concluded = [e.avenant_id for e in events if e.type == "AvenantConcluded"]  # type: ignore[union-attr]
    assert concluded == ["AV-2026"]
    assert state.actions["A2"].amounts[2026].etat == 310_000 * EUR  # the 2026 amendment moved the money
    assert state.actions["A2"].amounts[2025].etat == 300_000 * EUR  # the 2025 one awaits the second signature
    # Without the change, neither concludes alone: the change is what judged the 2026 line.
    events, _ = imported(lines, DEFAULT_POLICY, TYPED_IN_2027)
    assert "AvenantConcluded" not in types(events)


def test_a_deadline_moved_in_2026_leaves_the_deadlines_of_2024_and_2025_as_they_were() -> None:
    """The README's worked example: from 2026 the report of year N is due by 30 June N+1. The report of 2025, typed
    on 15 April 2026, was late by the rule of 2025 and still is; the report of 2026, on 15 April 2027, is in time."""
    lines = [
        *bordeaux_lines(),
        report_line(2024, date(2025, 3, 20)),
        review(2025, date(2025, 11, 17)),
        report_line(2025, date(2026, 4, 15)),
        review(2026, date(2026, 11, 16)),
        report_line(2026, date(2027, 4, 15)),
    ]
    now = datetime(2027, 5, 3, 9, tzinfo=UTC)

    def missed_reports(policy: Policy) -> list[tuple[int | None, date]]:
        _, state = imported(lines, policy, now)
        return [(m.year, m.due) for m in state.missed_deadlines if m.deadline == "execution_report"]

    assert missed_reports(DEFAULT_POLICY) == [(2025, date(2026, 3, 31)), (2026, date(2027, 3, 31))]
    assert missed_reports(CHANGED) == [(2025, date(2026, 3, 31))]


# --- a rule's handler changed in 2026 --------------------------------------------------------------------------------

REASONS_2026 = PolicyChange(
    id="suspension-reasons-2026",
    in_force_from=date(2026, 1, 1),
    reference="instruction d'exemple du 1er décembre 2025",
)


@pytest.fixture
def reasons_2026(monkeypatch: pytest.MonkeyPatch) -> Policy:
    """A later version of Suspend's handler, in force from 2026: a suspension states its reason in full."""
    monkeypatch.setitem(RULES, "Suspend", RULES["Suspend"])  # restored after the test

    @amends(Suspend, change=REASONS_2026.id)
    def suspend_2026(cmd: Suspend, state: ContractState, policy: Policy) -> list[Event]:
        if len(cmd.reason) < 30:
            raise ValidationRefused("reason: from 2026 a suspension states its reason in full", field="reason")
        return suspend(cmd, state, policy)

    return Policy(changes=(REASONS_2026,))


def suspension(when: datetime, entered_at: datetime | None = None) -> Any:
    cmd = command("Suspend", "cls-243300316", COMMISSAIRE_75, when, reason="Contrôle")
    return cmd.model_copy(update={"entered_at": entered_at or when})


def test_a_handler_dated_2026_decides_the_facts_of_2026_and_not_those_of_2025(reasons_2026: Policy) -> None:
    c25 = bordeaux_in_2025()
    assert types(decide(suspension(at(2025, 6, 1)), c25.state, reasons_2026)) == ["ContractSuspended"]
    assert types(decide(suspension(at(2025, 6, 1), TYPED_IN_2027), c25.state, reasons_2026)) == ["ContractSuspended"]
    c = in_2026()
    for late in (None, TYPED_IN_2027):
        with pytest.raises(DomainError, match="from 2026 a suspension states its reason in full"):
            decide(suspension(at(2026, 2, 1), late), c.state, reasons_2026)
    # Without the change in the policy, the first version decides, whatever the date.
    assert types(decide(suspension(at(2026, 2, 1)), c.state, DEFAULT_POLICY)) == ["ContractSuspended"]


def test_an_import_decides_each_line_by_the_handler_of_its_date(reasons_2026: Policy) -> None:
    def suspend_line(day: date) -> dict[str, Any]:
        return {
            "type": "Suspend",
            "contract_id": "cls-243300316",
            "occurred_at": day.isoformat(),
            "actor": COMMISSAIRE_75.model_dump(mode="json"),
            "source": "décision",
            "reason": "Contrôle",
        }

    resume = {
        "type": "Resume",
        "contract_id": "cls-243300316",
        "occurred_at": "2025-07-01",
        "actor": COMMISSAIRE_75.model_dump(mode="json"),
        "source": "décision",
        "reason": "Levée",
    }
    events, _ = imported([*bordeaux_lines(), suspend_line(date(2025, 6, 2)), resume], reasons_2026, TYPED_IN_2027)
    assert "ContractSuspended" in types(events)
    lines = [*bordeaux_lines(), suspend_line(date(2025, 6, 2)), resume, suspend_line(date(2026, 2, 2))]
    with pytest.raises(DomainError, match="line 8: reason: from 2026 a suspension states its reason in full"):
        imported(lines, reasons_2026, TYPED_IN_2027)


def test_a_command_is_amended_once_by_a_change_and_only_once_declared(reasons_2026: Policy) -> None:
    with pytest.raises(ValueError, match="Suspend is amended twice by suspension-reasons-2026"):
        amends(Suspend, change=REASONS_2026.id)(suspend)


def test_a_replayed_fold_is_the_same_whichever_rules_decided_the_facts() -> None:
    # evolve folds facts; it never judges them: a policy change cannot change the state of facts already recorded.
    c = in_2026()
    c.do("Amend", PREFET_33, at(2026, 2, 1), amendment_id="AV-2026", year=2026, amounts=moved(10_000), reason="R")
    assert fold(c.events) == c.state
