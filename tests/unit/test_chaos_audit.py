"""The chaos run's verdict (bench/chaos.py, ``audit``) sees what it must: a stream that differs, a command answered
success with no event, one recorded twice, one refused yet recorded, a contract that did not answer."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

from bench.chaos import Ledger, Run, audit, fault_schedule, request_of
from domain.territories import REFERENCE_TERRITORIES
from pacte.simulation import plan_for


def event(version: int, kind: str, request_id: str) -> dict[str, Any]:
    return {
        "version": version,
        "type": kind,
        "schema_version": 1,
        "occurred_at": "2024-01-20T09:00:00+00:00",
        "payload": {"type": kind},
    }


def run(pairs: list[tuple[str, str]], accepted: list[str], refused: list[str] = (), live: str = "accepted") -> Run:  # type: ignore[assignment]
    ledger = Ledger()
    ledger.accepted = {key: "cls-d01" for key in accepted}
    ledger.refused = {key: {"contract_id": "cls-d01", "type": "SignContract", "code": "x"} for key in refused}
    return Run(
        wall_s=1.0,
        ledger=ledger,
        streams={"cls-d01": [event(v, kind, rid) for v, (kind, rid) in enumerate(pairs, 1)]},
        request_ids={"cls-d01": [(rid, v) for v, (_, rid) in enumerate(pairs, 1)]},
        verify="ok",
        faults=Counter(),
        live={"cls-d01": live},
    )


BASE = [("ContractProposed", "a#1"), ("ActionAdded", "a#1"), ("DeliberationRecorded", "b#2"), ("DeadlineMissed", "cal")]


def test_the_same_record_passes() -> None:
    verdict = audit(run(BASE, ["a", "b"]), run(copy.deepcopy(BASE), ["a", "b"]))
    assert verdict["streams_equal"] and not verdict["success_without_event"] and not verdict["recorded_twice"]
    assert not verdict["refused_but_recorded"] and not verdict["wedged"]


def test_a_lost_command_a_doubled_one_a_refusal_recorded_and_a_wedged_contract_are_each_seen() -> None:
    reference = run(BASE, ["a", "b"])
    doubled = run([*BASE, ("DeliberationRecorded", "b#2/again")], ["a", "b", "c"], refused=["a"], live="wedged: x")
    verdict = audit(reference, doubled)
    assert not verdict["streams_equal"] and verdict["differences"][0]["first_difference_at_version"] == 5
    assert verdict["success_without_event"] == ["c"]
    assert verdict["recorded_twice"] == ["b"]
    assert [r["key"] for r in verdict["refused_but_recorded"]] == ["a"]
    assert verdict["wedged"] == {"cls-d01": "wedged: x"}


def test_a_request_with_more_events_than_undisturbed_is_doubled_even_under_one_request_id() -> None:
    again = [*BASE, ("ContractProposed", "a#1"), ("ActionAdded", "a#1")]
    assert audit(run(BASE, ["a", "b"]), run(again, ["a", "b"]))["recorded_twice"] == ["a"]


def test_the_fault_schedule_is_seeded_and_brings_every_kind() -> None:
    schedule = fault_schedule(28, 4)
    assert schedule == fault_schedule(28, 4) != fault_schedule(29, 4)
    assert sorted(kind for _, kind, _ in schedule) == sorted(
        ["api_killed", "postgres_restarted", "temporal_restarted", "worker_killed"]
    )
    assert all(0 < moment < 1 for moment, _, _ in schedule)


def test_each_command_goes_to_its_route_with_its_business_date() -> None:
    plan = plan_for(REFERENCE_TERRITORIES["D01"], seed=1)
    propose = plan.steps[0].build(None, plan.steps[0].at)  # type: ignore[arg-type]
    method, path, body = request_of(propose)  # type: ignore[arg-type]
    assert (method, path) == ("POST", "/contracts")
    assert body["territory"] == "D01" and body["occurred_at"] == plan.steps[0].at.isoformat()
    assert set(body) <= {"territory", "annual_ceiling", "draft_actions", "occurred_at", "source"}
