"""ContractWorkflow on the time-skipping test server: whole lifecycles, the year boundary, concurrent operators."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.actors import SYSTEM_ACTOR
from domain.business_time import start_of_day
from domain.errors import DomainError
from domain.evolve import fold
from domain.state import ContractState, Status
from domain.territories import REFERENCE_TERRITORIES
from domain.upcasting import parse_event
from eventstore.store import EventStore
from pacte import service
from pacte.simulate import drive
from pacte.simulation import Plan, _command, actors_for, plan_for
from workflows.contract import ContractWorkflow

pytestmark = pytest.mark.integration


async def run_plans(env: WorkflowEnvironment, queue: str, plans: list[Plan]) -> list[ContractState]:
    outcome = await drive(env, env.client, queue, plans, lambda done, total: None)
    assert outcome.refused == []
    return [await service.handle(env.client, p.contract_id).result() for p in plans]


async def check_stream(store: EventStore, final: ContractState) -> list[str]:
    stored = await store.read_stream(final.contract_id)
    assert [e.version for e in stored] == list(range(1, len(stored) + 1))
    folded = fold(parse_event(e.payload) for e in stored)
    assert folded == final  # the workflow's state is exactly the fold of what the store holds
    return sorted({e.metadata["run_id"] for e in stored})


@pytest.mark.parametrize("territory_id", ["243400017", "D2A2B"], ids=["metropole-montpellier", "departement-corse"])
async def test_a_whole_lifecycle_runs_to_closed(
    skipping_env: WorkflowEnvironment, skipping_queue: str, store: EventStore, territory_id: str
) -> None:
    plan = plan_for(REFERENCE_TERRITORIES[territory_id], seed=7, incidents=False)
    (final,) = await run_plans(skipping_env, skipping_queue, [plan])
    assert final.status is Status.CLOSED and final.balance is not None
    b = final.balance
    assert b.programmed_etat == b.used_etat + b.recoverable_etat and b.reversement == b.paid_etat - b.used_etat
    assert [final.year(y).opened for y in range(2024, 2028)] == [True] * 4
    assert all(final.year(y).reviews and final.year(y).report for y in range(2024, 2028))
    run_ids = await check_stream(store, final)
    assert len(run_ids) >= 4  # continued as new at each year boundary
    types = [e.event_type for e in await store.read_stream(final.contract_id)]
    assert types.count("ProgrammeYearOpened") == 4 and types.count("ClosingBegun") == 1
    reminders = await store.list_reminders(final.contract_id)
    assert {r["deadline"] for r in reminders} >= {"renewal", "execution_report"}  # both pending at reminder time
    summary = await store.pool.fetchrow("SELECT status FROM contract_summary WHERE contract_id = $1", final.contract_id)
    assert summary["status"] == "CLOSED"


async def test_missed_deadlines_are_recorded_by_the_timers(
    skipping_env: WorkflowEnvironment, skipping_queue: str, store: EventStore
) -> None:
    # A plan that stops after the signature: no review, no renewal, no report ever comes.
    plan = plan_for(REFERENCE_TERRITORIES["D29"], seed=1, incidents=False)
    plan.steps = plan.steps[:4]
    offset = (await drive(skipping_env, skipping_env.client, skipping_queue, [plan], lambda d, t: None)).offset
    await skipping_env.sleep(datetime(2025, 4, 2, tzinfo=UTC) - (await skipping_env.get_current_time() + offset))
    handle = service.handle(skipping_env.client, plan.contract_id)
    state = await handle.query(ContractWorkflow.state)
    missed = {(m.deadline, m.year) for m in state.missed_deadlines}
    assert {("committee_review", 2024), ("renewal", 2025), ("execution_report", 2024)} <= missed
    assert state.current_year == 2025 and state.status is Status.IN_EXECUTION  # escalates, cancels nothing
    events = await store.read_stream(plan.contract_id)
    missed_events = [e for e in events if e.event_type == "DeadlineMissed"]
    assert len(missed_events) == len(state.missed_deadlines)  # each recorded once, across runs
    assert all(e.payload["actor"]["role"] == SYSTEM_ACTOR.role.value for e in missed_events)
    pending = await handle.query(ContractWorkflow.pending_deadlines)
    assert any(d.kind == "committee_review" and d.year == 2025 for d in pending)


async def test_updates_around_the_year_boundary_are_neither_lost_nor_doubled(
    skipping_env: WorkflowEnvironment, skipping_queue: str, store: EventStore
) -> None:
    territory = REFERENCE_TERRITORIES["D64"]
    plan = plan_for(territory, seed=3, incidents=False)
    plan.steps = [s for s in plan.steps if s.at < datetime(2024, 11, 1, tzinfo=UTC)]  # signed, reviewed 2024
    offset = (await drive(skipping_env, skipping_env.client, skipping_queue, [plan], lambda d, t: None)).offset
    # The boundary is midnight in Paris (23:00 UTC on 31 December).
    just_before = start_of_day(date(2025, 1, 1)) - timedelta(seconds=10)
    await skipping_env.sleep(just_before - (await skipping_env.get_current_time() + offset))
    prefet = actors_for(territory)["prefet"]
    state = await service.handle(skipping_env.client, plan.contract_id).query(ContractWorkflow.state)
    first_action = next(iter(state.actions.values()))
    commands = [
        _command(
            "Amend",
            plan.contract_id,
            prefet,
            just_before + timedelta(seconds=i),
            amendment_id=f"AV-{i}",
            year=2025,
            # Each changes something (an amendment changing nothing is refused): 1 000 € less on both sides per i.
            amounts={
                first_action.action_id: first_action.amounts[2025].model_copy(
                    update={
                        "etat": first_action.amounts[2025].etat - (i + 1) * 100_000,
                        "collectivite": first_action.amounts[2025].collectivite - (i + 1) * 100_000,
                    }
                )
            },
            reason=f"Avenant {i}",
        )
        for i in range(8)
    ]

    async def send(command):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + 60  # generous: a loaded machine makes the boundary last
        while True:  # the run may be continuing as new: the same request again is harmless
            try:
                return await service.send_command(skipping_env.client, command)
            except DomainError:
                raise
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)

    # The boundary (a timer, then continue-as-new) happens while the updates arrive.
    results = await asyncio.gather(
        skipping_env.sleep(timedelta(seconds=30)), *(send(c) for c in commands), return_exceptions=True
    )
    assert not [r for r in results if isinstance(r, BaseException)], results
    again = await asyncio.gather(*(send(c) for c in commands))  # the same requests after the boundary: no new event
    assert all(r.events == [] for r in again)
    events = await store.read_stream(plan.contract_id)
    proposed = [e.payload["avenant_id"] for e in events if e.event_type == "AvenantProposed"]
    assert sorted(proposed) == sorted(f"AV-{i}" for i in range(8))  # each exactly once
    assert [e.event_type for e in events].count("ProgrammeYearOpened") == 2
    assert [e.version for e in events] == list(range(1, len(events) + 1))
    state = await service.handle(skipping_env.client, plan.contract_id).query(ContractWorkflow.state)
    assert state.current_year == 2025 and state.version == len(events)


async def in_execution(
    env: WorkflowEnvironment, queue: str, territory_id: str, until: date, now: datetime
) -> tuple[Plan, dict]:  # type: ignore[type-arg]
    """The plan's facts before ``until``, then the clock moved on to ``now`` (a fact is never dated in the future)."""
    territory = REFERENCE_TERRITORIES[territory_id]
    plan = plan_for(territory, seed=5, incidents=False)
    plan.steps = [s for s in plan.steps if s.at.date() < until]
    offset = (await drive(env, env.client, queue, [plan], lambda d, t: None)).offset
    await env.sleep(now - (await env.get_current_time() + offset))
    return plan, actors_for(territory)


async def outcomes(client: Client, *commands) -> list[object]:  # type: ignore[no-untyped-def]
    return await asyncio.gather(*(service.send_command(client, c) for c in commands), return_exceptions=True)


async def test_two_renewals_at_the_same_moment_one_wins(
    skipping_env: WorkflowEnvironment, skipping_queue: str, store: EventStore
) -> None:
    plan, a = await in_execution(
        skipping_env, skipping_queue, "D65", date(2024, 11, 20), datetime(2024, 11, 21, 10, 5, tzinfo=UTC)
    )
    state = await service.handle(skipping_env.client, plan.contract_id).query(ContractWorkflow.state)
    assert state.year(2024).reviews
    at = datetime(2024, 11, 21, 10, tzinfo=UTC)
    action = next(iter(state.actions.values()))
    renew = [
        _command(
            "Renew",
            plan.contract_id,
            a["prefet"],
            at + timedelta(seconds=i),
            year=2025,
            amounts={action.action_id: action.amounts[2025]},
        )
        for i in range(2)
    ]
    results = await outcomes(skipping_env.client, *renew)
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 1 and "already proposed" in refused[0].message
    events = await store.read_stream(plan.contract_id)
    assert [e.event_type for e in events].count("AvenantProposed") == 1


async def test_two_terminations_at_the_same_moment_one_wins_and_sign_races_terminate_cleanly(
    skipping_env: WorkflowEnvironment, skipping_queue: str, store: EventStore
) -> None:
    # deliberated, unsigned
    plan, a = await in_execution(
        skipping_env, skipping_queue, "D66", date(2024, 2, 25), datetime(2024, 3, 20, 10, 5, tzinfo=UTC)
    )
    at = datetime(2024, 3, 20, 10, tzinfo=UTC)
    sign = _command("SignContract", plan.contract_id, a["prefet"], at, party="etat", signatory="Préfet")
    end_a = _command("Terminate", plan.contract_id, a["collectivite"], at + timedelta(seconds=1), reason="Désaccord")
    end_b = _command("Terminate", plan.contract_id, a["prefet"], at + timedelta(seconds=2), reason="Désaccord")
    results = await outcomes(skipping_env.client, sign, end_a, end_b)
    terminations = [r for r in results[1:] if not isinstance(r, BaseException)]
    assert len(terminations) == 1  # exactly one termination is recorded
    refused = [r for r in results[1:] if isinstance(r, DomainError)]
    assert len(refused) == 1 and "after closing or termination" in refused[0].message
    types = [e.event_type for e in await store.read_stream(plan.contract_id)]
    assert types.count("ContractTerminated") == 1 and types[-1] == "ContractTerminated"
    if isinstance(results[0], DomainError):  # the signature came after a termination: refused, nothing written
        assert "PartySigned" not in types[types.index("DeliberationRecorded") :]
