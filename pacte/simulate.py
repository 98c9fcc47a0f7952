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
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import Client, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from domain.business_time import business_date, end_of_day
from domain.commands import Command
from domain.errors import DomainError
from domain.evolve import evolve
from domain.state import INITIAL_STATE, ContractState, Status
from domain.territories import REFERENCE_TERRITORIES, Territory, synthetic_intercommunalites
from eventstore.integrity import verify
from eventstore.store import EventStore
from pacte import service
from pacte.codec import data_converter
from pacte.embedded import SERVER_STARTUP, binary_path, with_database
from pacte.keyring import Keyring
from pacte.reprise_file import dump_lines
from pacte.runtime import build_worker, resolve_database_url
from pacte.settings import Settings
from pacte.simulation import SIMULATION_START, Plan, Step, plan_for
from workflows.contract import ContractWorkflow


def choose_territories(selection: str, seed: int) -> list[Territory]:
    """all | metropoles | departements | N: a seeded sample of N real territories, or for N beyond the 123 real
    ones, all of them and N − 123 synthetic intercommunalités (ids ``000000001``…, see domain/territories.py)."""
    everything = sorted(REFERENCE_TERRITORIES.values(), key=lambda t: t.id)
    if selection == "all":
        return everything
    if selection in ("metropoles", "departements"):
        kind = selection.removesuffix("s")
        return [t for t in everything if t.kind.value == kind]
    try:
        count = int(selection)
    except ValueError:
        raise ValueError(f"territories: {selection!r} is not all, metropoles, departements or a number") from None
    if count < 1:
        raise ValueError(f"territories: {count} is not a positive number of territories")
    if count > len(everything):
        return everything + synthetic_intercommunalites(count - len(everything))
    return sorted(random.Random(seed).sample(everything, count), key=lambda t: t.id)


def _synthetic(territory: Territory) -> tuple[Territory, ...]:
    """What a contract's workflow must be told of its territory: nothing when it is a real one."""
    return () if territory.id in REFERENCE_TERRITORIES else (territory,)


UNTIL_MARGIN = timedelta(minutes=30)


@dataclass
class Outcome:
    offset: timedelta  # business time = server time + offset
    refused: list[str] = field(default_factory=list)
    commands: int = 0
    accepted: list[Command] = field(default_factory=list)  # what the operators' side sent and the rules accepted
    known: dict[str, ContractState] = field(default_factory=dict)  # each contract as last read from its stream


async def _run_step(client: Client, step: Step, outcome: Outcome, store: EventStore | None) -> None:
    if store is not None:  # the record itself: the workflow's state is the fold of its stream
        # Only the events since the last read are read and folded (the whole stream each time made the driver's
        # reads grow with the history: ~40 events parsed per command at the end of a lifecycle).
        state = outcome.known.get(step.contract_id, INITIAL_STATE)
        for event in await store.load_events(step.contract_id, after_version=state.version):
            state = evolve(state, event)
        outcome.known[step.contract_id] = state
    else:
        state = await service.handle(client, step.contract_id).query(ContractWorkflow.state)
    if state.status in (Status.CLOSED, Status.TERMINATED):
        return
    command = step.build(state, step.at)
    if command is None:
        return
    try:
        await service.send_command(client, command, state=False)  # the next step queries it anyway
        outcome.commands += 1
        outcome.accepted.append(command)
    except DomainError as error:
        outcome.refused.append(f"{step.contract_id} {command.type}: {error.message}")


async def drive(
    env: WorkflowEnvironment,
    client: Client,
    task_queue: str,
    plans: list[Plan],
    progress: Callable[[int, int], None],
    store: EventStore | None = None,
    *,
    until: date | None = None,
    offset: timedelta | None = None,
    start: bool = True,
    search_attributes: bool = False,
) -> Outcome:
    """Send every plan's commands at their business times, the server's clock skipping ahead between days.

    With ``store``, each command is built from the contract's stream rather than a query to its workflow, so the
    driver needs no worker to be up (the fault tests kill it). With ``until``, only the steps up to that date are
    sent and the clock then runs to 23:30 in Paris that day, so the calendar's facts of the day are recorded; a
    later call with the same ``offset`` and ``start=False`` carries on from there. With ``search_attributes``, the
    contracts publish theirs, as in production (where they are registered).
    """
    offset = SIMULATION_START - await env.get_current_time() if offset is None else offset
    outcome = Outcome(offset=offset)
    if start:
        for plan in plans:
            await service.start_contract(
                client,
                task_queue,
                plan.contract_id,
                clock_offset_s=offset.total_seconds(),
                territories=_synthetic(plan.territory),
                search_attributes=search_attributes,
            )
    began = await env.get_current_time() + offset
    # Steps of the same day run together, each contract's in order; days run one after another.
    days: dict[Any, list[Step]] = defaultdict(list)
    for plan in plans:
        for step in plan.steps:
            if step.at > began and (until is None or business_date(step.at) <= until):
                days[step.at.date()].append(step)
    total, done = sum(len(v) for v in days.values()), 0
    for day in sorted(days):
        steps = sorted(days[day], key=lambda s: s.at)
        # Let the clock pass the day's last step; each command carries its own business time.
        business_now = await env.get_current_time() + offset
        target = max(s.at for s in steps) + timedelta(seconds=1)
        if target > business_now:
            await skip(env, target - business_now)
        by_contract: dict[str, list[Step]] = defaultdict(list)
        for step in steps:
            by_contract[step.contract_id].append(step)

        async def run_contract(contract_steps: list[Step]) -> None:
            for step in contract_steps:
                await _run_step(client, step, outcome, store)

        await asyncio.gather(*(run_contract(v) for v in by_contract.values()))
        done += len(steps)
        progress(done, total)
    if until is not None:
        # Late on the cut day, at 23:30 in Paris: every fact of the day is in, and the half hour left before the
        # calendar's midnight facts covers the time the server's clock runs on (in real time) while states are read.
        stop = end_of_day(until) - UNTIL_MARGIN
        business_now = await env.get_current_time() + offset
        if stop > business_now:
            await skip(env, stop - business_now)
    return outcome


# A time skip waits for every workflow task and activity that falls due in it: at a year boundary with a thousand
# contracts (each opening its year, continuing as new and appending), that takes minutes of real time, beyond the
# client's default deadline for the call ("Timeout expired", seen at 1 000 contracts on one test server).
SKIP_TIMEOUT = timedelta(hours=1)


async def skip(env: WorkflowEnvironment, duration: timedelta) -> None:
    """The test server's clock moves ``duration`` ahead (``env.sleep`` with a deadline long enough for that)."""
    request = SleepRequest()
    request.duration.FromTimedelta(duration)
    await env.client.test_service.unlock_time_skipping_with_sleep(request, timeout=SKIP_TIMEOUT)


def export_lines(commands: list[Command], until: date | None, source: str) -> list[dict[str, Any]]:
    """The operators' commands up to ``until`` as an import file's lines (see domain/reprise.py): each with its
    business date, the party that did it and its source; the calendar's facts are left to the import."""
    lines = []
    for command in sorted(commands, key=lambda c: (c.contract_id, c.at)):
        if until is not None and business_date(command.at) > until:
            continue
        line = command.model_dump(
            mode="json", exclude={"request_id", "at", "entered_at", "recorded_by", "schema_version"}
        )
        line["occurred_at"] = command.at.isoformat()
        line["source"] = line.get("source") or source
        lines.append(line)
    return lines


async def simulate(
    settings: Settings,
    selection: str,
    seed: int,
    progress: Callable[[int, int], None],
    *,
    until: date | None = None,
    export: Path | None = None,
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
            # A server of this run only: a keyring of this run only seals its payloads.
            data_converter=data_converter(Keyring.generate()),
            test_server_existing_path=binary_path("temporal-test-server"),
            test_server_startup_timeout=SERVER_STARTUP,
        )
        try:
            queue = "pacte-simulation"
            async with build_worker(env.client, store, queue):
                outcome = await drive(env, env.client, queue, plans, progress, store, until=until)
                finals: list[ContractState] = []
                for plan in plans:
                    if until is not None:  # the programme stops at the cut: the states as they are then
                        finals.append(await service.handle(env.client, plan.contract_id).query(ContractWorkflow.state))
                        continue
                    try:
                        finals.append(await service.handle(env.client, plan.contract_id).result())
                    except WorkflowFailureError as error:  # pragma: no cover - reported, not hidden
                        outcome.refused.append(f"{plan.contract_id}: workflow failed: {error}")
            exported: int | None = None
            if export is not None:
                lines = export_lines(outcome.accepted, until, f"simulation Pacte, graine {seed}")
                await asyncio.to_thread(export.write_text, dump_lines(lines))
                exported = len(lines)
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
        "until": until.isoformat() if until else None,
        "exported_lines": exported,
        "contracts": len(plans),
        "synthetic": sum(1 for plan in plans if plan.territory.id not in REFERENCE_TERRITORIES),
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
