"""What *Comparer* says of a span (found by a user walk: "0 fait" and, under it, "Une partie de ces changements vient
de faits enregistrés en retard")."""

from __future__ import annotations

from datetime import date
from typing import Any

from pacte.web.rendering import TEMPLATES


def shown(events: list[dict[str, Any]], revisions: list[dict[str, Any]]) -> str:
    found = {
        "events": events,
        "revisions_of_start": revisions,
        "from_late_records_or_corrections": bool(revisions) or any(e["why"] == "late_record" for e in events),
    }
    page = TEMPLATES.env.get_template("_changes.html")
    return page.render(found=found, start=date(2026, 1, 1), end=date(2026, 1, 2), error=None)


def test_no_fact_listed_is_never_said_to_come_from_late_records() -> None:
    late_before = {"type": "ContractSigned", "occurred_at": "2025-12-30T12:00:00+00:00", "why": "late_record"}
    text = shown([], [late_before])
    assert "0 fait" in text and "Une partie de ces changements" not in text
    assert "1 fait antérieur enregistré après coup" in text  # what changed of the first day is said apart
    year = {"type": "ProgrammeYearOpened", "occurred_at": "2026-01-01T00:00:00+00:00", "why": "calendar"}
    assert "Une partie de ces changements" not in shown([year], [])
    assert "Une partie de ces changements" in shown([year, late_before], [])
