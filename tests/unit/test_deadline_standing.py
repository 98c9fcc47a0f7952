"""Deadlines as people read them (issue 22, item 6): one list from the domain, each deadline once, either missed or
to come — never both, and a past date never "to come". Bordeaux taken over in December 2026 with its real history
(signed March 2024, one committee in 2024, then nothing) holds every case."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from domain.deadlines import DeadlineKind, Standing, deadline_standings, pending_deadlines
from domain.evolve import evolve
from domain.policy import DEFAULT_POLICY
from domain.reprise import import_history
from domain.state import INITIAL_STATE, ContractState
from tests.unit.test_business_time import bordeaux_lines, parsed

TAKEN_OVER = datetime(2026, 12, 1, 9, tzinfo=UTC)
TODAY = date(2026, 12, 1)


def bordeaux() -> ContractState:
    events, _ = import_history(parsed(bordeaux_lines(), TAKEN_OVER), INITIAL_STATE, DEFAULT_POLICY, TAKEN_OVER)
    state = INITIAL_STATE
    for event in events:
        state = evolve(state, event)
    return state


def test_each_deadline_once_missed_or_to_come_never_both() -> None:
    state = bordeaux()
    # The contradiction as it was: recorded missed, and still pending (so shown "à venir" too).
    assert any(d.missed_recorded for d in pending_deadlines(state, DEFAULT_POLICY))
    rows = deadline_standings(state, DEFAULT_POLICY, TODAY)
    keys = [(r.kind, r.year) for r in rows]
    assert len(keys) == len(set(keys))
    by_key = {(r.kind, r.year): r for r in rows}
    report_2024 = by_key[(DeadlineKind.EXECUTION_REPORT, 2024)]
    assert report_2024.standing is Standing.MISSED and report_2024.days == (TODAY - date(2025, 3, 31)).days
    assert by_key[(DeadlineKind.RENEWAL, 2025)].standing is Standing.MISSED  # recorded, no longer pending
    review_2026 = by_key[(DeadlineKind.COMMITTEE_REVIEW, 2026)]
    assert review_2026.standing is Standing.TO_COME and review_2026.days == 30
    assert [r.due for r in rows] == sorted(r.due for r in rows)


@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)))
def test_a_past_date_is_never_to_come_and_a_future_one_never_missed_unless_recorded(today: date) -> None:
    state = bordeaux()
    for row in deadline_standings(state, DEFAULT_POLICY, today):
        if row.standing is Standing.TO_COME:
            assert row.due >= today
        if row.due >= today:
            assert row.standing is not Standing.MISSED or row.recorded


def test_a_deadline_met_late_says_so_with_its_date() -> None:
    state = bordeaux()
    late = state.model_copy(
        update={"mid_term_evaluated_on": date(2026, 9, 15), "mid_term_evaluation": {"A1": "en cours"}}  # after 30 June
    )
    row = {(r.kind, r.year): r for r in deadline_standings(late, DEFAULT_POLICY, TODAY)}[
        (DeadlineKind.MID_TERM_EVALUATION, None)
    ]
    assert row.standing is Standing.MET_LATE and row.met_on == date(2026, 9, 15)
