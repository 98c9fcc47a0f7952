"""The programme's last renewal (2027's) typed late, once 2027 has opened: its committee, its proposal and both
signatures dated in 2026, as a préfecture types them from its files. What the browser's renewal walk
(tests/web/test_screens.py) does from 1 January 2027 on, decided here on any day."""

from __future__ import annotations

from datetime import date

from domain.calendar import calendar_until
from domain.decider import decide
from domain.state import Status
from tests.unit.builders import (
    BORDEAUX_ACTIONS,
    BORDEAUX_COLL,
    COMMISSAIRE_75,
    EUR,
    PREFET_33,
    at,
    bordeaux_in_execution,
)


def test_the_last_renewal_typed_after_its_year_opened_dated_the_year_before_is_concluded() -> None:
    c = bordeaux_in_execution("reviewed")
    _, c.state = calendar_until(c.state, c.policy, at(2027, 3, 1), lambda cmd, s: decide(cmd, s, c.policy))
    assert c.state.current_year == 2027 and c.state.status is Status.IN_EXECUTION
    c.do(
        "RecordCommitteeReview",
        COMMISSAIRE_75,
        at(2026, 12, 1),
        year=2026,
        review_date=date(2026, 12, 1),
        findings="Actions poursuivies",
        decision="CONTINUE",
    )
    raised = {a.action_id: 50_000 * EUR if a.action_id == "A1" else 0 for a in BORDEAUX_ACTIONS}
    amounts = {
        a.action_id: {
            "etat": a.amounts[2026].etat + raised[a.action_id],
            "collectivite": a.amounts[2026].etat + raised[a.action_id],
        }
        for a in BORDEAUX_ACTIONS
    }
    c.do("Renew", PREFET_33, at(2026, 12, 1), year=2027, amounts=amounts)
    for actor, party in ((BORDEAUX_COLL, "collectivite"), (PREFET_33, "etat")):
        c.do("SignAvenant", actor, at(2026, 12, 1), avenant_id="renewal-2027", party=party, signatory="Signataire")
    assert c.state.avenants["renewal-2027"].concluded
    assert c.state.actions["A1"].amounts[2027].etat == 450_000 * EUR
