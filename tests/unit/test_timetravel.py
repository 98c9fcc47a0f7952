"""The auditors' time travel, in the core: state as of a date, and what changed between two dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.state import Status
from domain.timetravel import explain, state_as_of
from domain.upcasting import UPCASTERS, parse_event, upcaster
from tests.unit.builders import COMMISSAIRE_75, at, bordeaux_in_execution


def test_state_as_of_a_date() -> None:
    c = bordeaux_in_execution("reviewed")
    assert state_as_of(c.events, date(2023, 11, 30)).status is Status.NONE
    assert state_as_of(c.events, date(2023, 12, 1)).status is Status.PROPOSED  # the whole day counts
    assert state_as_of(c.events, date(2024, 3, 4)).signatures.keys() == {"etat"}
    as_of_june = state_as_of(c.events, datetime(2024, 6, 30, tzinfo=UTC))
    assert as_of_june.status is Status.IN_EXECUTION and not as_of_june.year(2024).reviews
    assert state_as_of(c.events, date(2030, 1, 1)) == c.state


def test_explain_names_the_events_and_the_fields_that_changed() -> None:
    c = bordeaux_in_execution("in_execution")
    c.do("Suspend", COMMISSAIRE_75, at(2024, 6, 1), reason="Contrôle")
    why = explain(c.events, date(2024, 2, 1), date(2024, 6, 30))
    assert [e.type for e in why.events] == [
        "DeliberationRecorded",
        "PartySigned",
        "PartySigned",
        "ContractSigned",
        "ProgrammeYearOpened",
        "ContractSuspended",
    ]
    changed = {change.field: change for change in why.changes}
    assert changed["status"].before == "PROPOSED" and changed["status"].after == "SUSPENDED"
    assert "suspension_reason" in changed and "annual_ceiling" not in changed
    assert explain(c.events, date(2024, 6, 30), date(2024, 2, 1)).events == why.events  # order of dates is free


def test_a_span_of_days_holds_its_first_and_last_days_facts() -> None:
    """Found by a user walk: "du 01/01/2026 au 02/01/2026" gave 0 fait though the year opened on 1 January. Both
    bounds are whole business days in Paris; a date-time stays an instant."""
    c = bordeaux_in_execution("in_execution")  # the État signs on 1 March 2024, the collectivité on 5 March
    assert [e.type for e in explain(c.events, date(2024, 3, 1), date(2024, 3, 1)).events] == ["PartySigned"]
    span = [e.type for e in explain(c.events, date(2024, 3, 5), date(2024, 3, 1)).events]  # in either order
    assert span[:2] == ["PartySigned", "PartySigned"] and "ContractSigned" in span
    assert explain(c.events, datetime(2024, 3, 1, 12, tzinfo=UTC), date(2024, 3, 1)).events == []  # after 10:00
    # The first and last days there are (the API's schema test sent 0001-01-01: the day before it overflowed).
    assert len(explain(c.events, date.min, date.max).events) == len(c.events)


def test_old_event_versions_are_upcast_by_the_registry() -> None:
    c = bordeaux_in_execution("proposed")
    current = c.events[0].model_dump(mode="json")
    old = {k: v for k, v in current.items() if k not in ("annual_ceiling", "schema_version")}
    old |= {"schema_version": 0, "ceiling_euros": 1_500_000}

    @upcaster("ContractProposed", 0)
    def euros_to_cents(payload: dict) -> dict:  # type: ignore[type-arg]
        rest = {k: v for k, v in payload.items() if k != "ceiling_euros"}
        return {**rest, "annual_ceiling": payload["ceiling_euros"] * 100, "schema_version": 1}

    try:
        assert parse_event(old) == c.events[0]
    finally:
        del UPCASTERS[("ContractProposed", 0)]
