"""The dashboard's deadlines (issue 22, item 6) are the domain's, by territory name: missed ones first, then this
month's; a terminated contract owes nothing any more."""

from __future__ import annotations

import json

from domain.policy import DEFAULT_POLICY
from domain.status import Status
from eventstore.projections import summary_json
from pacte.service.dashboard import figures
from tests.unit.test_deadline_standing import TODAY, bordeaux


def test_the_dashboard_lists_missed_then_this_months_deadlines_by_territory_name() -> None:
    summary = json.loads(summary_json(bordeaux()))  # as the read model stores it
    rows = figures([summary], DEFAULT_POLICY, TODAY).deadlines
    assert {r.territory_name for r in rows} == {"Bordeaux Métropole"}
    standings = [r.standing.value for r in rows]
    assert standings == sorted(standings, key=lambda s: s != "missed") and "to_come" in standings
    assert all(r.due.month == TODAY.month for r in rows if r.standing.value == "to_come")
    terminated = json.loads(summary_json(bordeaux().model_copy(update={"status": Status.TERMINATED})))
    assert figures([terminated], DEFAULT_POLICY, TODAY).deadlines == []
