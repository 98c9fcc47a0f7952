"""`pacte simulate`: the whole 2024–2027 programme on the time-skipping Temporal test server, through the updates an
operator would send, into a fresh database of the configured (or embedded) PostgreSQL; then verify the event store."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
from temporalio.client import Client, WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.errors import DomainError
from domain.evolve import fold
from domain.state import ContractState, Status
from domain.territories import REFERENCE_TERRITORIES, Territory
from eventstore.integrity import verify
from eventstore.store import EventStore
from pacte import service
from pacte.embedded import binary_path, with_database
from pacte.runtime import build_worker, resolve_database_url
from pacte.settings import Settings
from pacte.simulation import SIMULATION_START, Plan, Step, plan_for
from workflows.contract import ContractWorkflow


def choose_territories(selection: str, seed: int) -> list[Territory]:
    """all | metropoles | departements | N (a seeded sample of N territories)."""
    everything = sorted(REFERENCE_TERRITORIES.values(), key=lambda t: t.id)
    if selection == "all":
        return everything
    if selection in ("metropoles", "departements"):
        kind = selection.removesuffix("s")
        return [t for t in everything if t.kind.value == kind]
    count = int(selection)
    return sorted(random.Random(seed).sample(everything, min(count, len(everything))), key=lambda t: t.id)


@dataclass
class Outcome:
    offset: timedelta  # business time = server time + offset
    refused: list[str] = field(default_factory=list)
    commands: int = 0


async def _run_step(client: Client, step: Step, outcome: Outcome, store: EventStore | None) -> None:
    if store is not None:  # the record itself: the workflow's state is the fold of its stream
        state = fold(await store.load_events(step.contract_id))
    else:
        state = await service.handle(client, step.contract_id).query(ContractWorkflow.state)
    if state.status in (Status.CLOSED, Status.TERMINATED):
        return
    command = step.build(state, step.at)
    if command is None:
        return
    try:
        await service.send_command(client, command)
        outcome.commands += 1
    except DomainError as error:
        outcome.refused.append(f"{step.contract_id} {command.type}: {error.message}")


async def drive(
    env: WorkflowEnvironment,
    client: Client,
    task_queue: str,
    plans: list[Plan],
    progress: Callable[[int, int], None],
    store: EventStore | None = None,
) -> Outcome:
    """Send every plan's commands at their business times, the server's clock skipping ahead between days.

    With ``store``, each command is built from the contract's stream rather than a query to its workflow, so the
    driver needs no worker to be up (the fault tests kill it).
    """
    offset = SIMULATION_START - await env.get_current_time()
    outcome = Outcome(offset=offset)
    for plan in plans:
        await service.start_contract(client, task_queue, plan.contract_id, clock_offset_s=offset.total_seconds())
    # Steps of the same day run together, each contract's in order; days run one after another.
    days: dict[Any, list[Step]] = defaultdict(list)
    for plan in plans:
        for step in plan.steps:
            days[step.at.date()].append(step)
    total, done = sum(len(v) for v in days.values()), 0
    for day in sorted(days):
        steps = sorted(days[day], key=lambda s: s.at)
        # Let the clock pass the day's last step; each command carries its own business time.
        business_now = await env.get_current_time() + offset
        target = max(s.at for s in steps) + timedelta(seconds=1)
        if target > business_now:
            await env.sleep(target - business_now)
        by_contract: dict[str, list[Step]] = defaultdict(list)
        for step in steps:
            by_contract[step.contract_id].append(step)

        async def run_contract(contract_steps: list[Step]) -> None:
            for step in contract_steps:
                await _run_step(client, step, outcome, store)

        await asyncio.gather(*(run_contract(v) for v in by_contract.values()))
        done += len(steps)
        progress(done, total)
    return outcome


async def simulate(
    settings: Settings, selection: str, seed: int, progress: Callable[[int, int], None]
) -> dict[str, Any]:
    started = time.perf_counter()
    server_url = await resolve_database_url(settings)
    name = f"pacte_simulation_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    territories = choose_territories(selection, seed)
    plans = [plan_for(t, seed) for t in territories]
    try:
        store = await EventStore.connect(url, max_size=20)
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=pydantic_data_converter, test_server_existing_path=binary_path("temporal-test-server")
        )
        try:
            queue = "pacte-simulation"
            async with build_worker(env.client, store, queue):
                outcome = await drive(env, env.client, queue, plans, progress, store)
                finals: list[ContractState] = []
                for plan in plans:
                    try:
                        finals.append(await service.handle(env.client, plan.contract_id).result())
                    except WorkflowFailureError as error:  # pragma: no cover - reported, not hidden
                        outcome.refused.append(f"{plan.contract_id}: workflow failed: {error}")
            async with store.pool.acquire() as conn:
                report = await verify(conn)
            events = await store.pool.fetchval("SELECT count(*) FROM events")
        finally:
            await env.shutdown()
            await store.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return {
        "contracts": len(plans),
        "closed": sum(1 for s in finals if s.status is Status.CLOSED),
        "terminated": sum(1 for s in finals if s.status is Status.TERMINATED),
        "events": events,
        "commands": outcome.commands,
        "refused": len(outcome.refused),
        "refusals": outcome.refused[:20],
        "missed_deadlines": sum(len(s.missed_deadlines) for s in finals),
        "reversement_cents": sum(s.balance.reversement for s in finals if s.balance),
        "verify": "ok" if report.ok else f"FAILED: {report.first_problem}",
        "wall_s": round(time.perf_counter() - started, 1),
    }
