"""The main test of taking over contracts under way: the simulation of every territory, cut at three dates; each cut
exported as an import file and imported into a fresh stack (its own database, its own Temporal server, its clock at
the cut) gives, contract by contract, the same business state as the simulation at that date; then the imported
workflows carry on with the very commands the simulation sent after the cut, and end where the simulation ended.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.business_time import end_of_day
from domain.commands import Command
from domain.reprise import parse_line
from domain.state import ContractState
from domain.territories import REFERENCE_TERRITORIES, Territory
from eventstore.integrity import verify
from eventstore.store import EventStore
from pacte import service
from pacte.embedded import SERVER_STARTUP, binary_path, with_database
from pacte.reprise_file import dump_lines
from pacte.runtime import build_worker
from pacte.simulate import UNTIL_MARGIN, drive, export_lines
from pacte.simulation import Plan, Step, actors_for, plan_for
from tests.sealing import CONVERTER
from tests.unit.test_business_time import business
from workflows.contract import ContractWorkflow

pytestmark = pytest.mark.integration

CUTS = (date(2024, 6, 30), date(2025, 12, 31), date(2026, 11, 28))
SEED = 2024
# CI runs the territories that cover every kind of territory and every incident the simulation plans (termination,
# suspension and late report, each in every year it falls in), plus a few more: the whole programme took 4 to 5 of
# the suite's 10 minutes beside a busy core. PACTE_ROUNDTRIP_ALL=1 runs all 123.
SAMPLE_SIZE = 16


def roundtrip_territories() -> list[Territory]:
    territories = sorted(REFERENCE_TERRITORIES.values(), key=lambda t: t.id)
    if os.environ.get("PACTE_ROUNDTRIP_ALL", "").lower() in {"1", "true", "yes"}:
        return territories

    def traits(t: Territory) -> set[tuple[str, object]]:
        plan = plan_for(t, SEED)
        return {
            ("kind", t.kind),
            ("terminated", plan.terminated_in),
            ("suspended", plan.suspended_in),
            ("late_report", plan.late_report),
        }

    wanted = set().union(*(traits(t) for t in territories))
    chosen: list[Territory] = []
    while wanted:  # greedy cover: each pick brings the most traits still missing
        best = max(territories, key=lambda t: len(traits(t) & wanted))
        chosen.append(best)
        wanted -= traits(best)
    step = max(1, len(territories) // SAMPLE_SIZE)
    for t in territories[::step]:
        if len(chosen) >= SAMPLE_SIZE:
            break
        if t not in chosen:
            chosen.append(t)
    return sorted(chosen, key=lambda t: t.id)


@asynccontextmanager
async def stack(server_url: str) -> AsyncIterator[tuple[WorkflowEnvironment, EventStore, str]]:
    """A fresh database and a fresh time-skipping Temporal server with a worker."""
    name = f"pacte_roundtrip_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    store = await EventStore.connect(with_database(server_url, name), max_size=20)
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=CONVERTER,
        test_server_existing_path=binary_path("temporal-test-server"),
        test_server_startup_timeout=SERVER_STARTUP,
    )
    try:
        async with build_worker(env.client, store, "roundtrip"):
            yield env, store, "roundtrip"
    finally:
        await env.shutdown()
        await store.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def states(env: WorkflowEnvironment, contract_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The live workflows' states (a query waits for what the timers set going), as business states."""
    out = {}
    for cid in contract_ids:
        state: ContractState = await service.handle(env.client, cid).query(ContractWorkflow.state)
        out[cid] = business(state)
    return out


def replay_plans(commands: list[Command], after: date, territories: list[Territory]) -> list[Plan]:
    """The commands the simulation sent after the cut, as plans that send exactly those."""
    by_contract: dict[str, list[Command]] = defaultdict(list)
    for command in commands:
        if end_of_day(after) < command.at:
            by_contract[command.contract_id].append(command)
    plans = []
    for territory in territories:
        plan = plan_for(territory, SEED)
        plan.steps = [
            Step(at=c.at, contract_id=c.contract_id, build=lambda s, t, c=c: c) for c in by_contract[plan.contract_id]
        ]
        plans.append(plan)
    return plans


async def test_every_territory_exported_at_three_dates_imports_to_the_same_state_and_carries_on(
    postgres_server_url: str, tmp_path: Path
) -> None:
    territories = roundtrip_territories()
    contract_ids = [plan_for(t, SEED).contract_id for t in territories]
    snapshots: dict[date, tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]] = {}
    sent: list[Command] = []

    # The simulation, paused at each cut date: its states then, and its history up to then as an import file.
    async with stack(postgres_server_url) as (env, store, queue):
        plans = [plan_for(t, SEED) for t in territories]
        offset = None
        for n, cut in enumerate(CUTS):
            outcome = await drive(
                env, env.client, queue, plans, lambda d, t: None, store, until=cut, offset=offset, start=n == 0
            )
            offset = outcome.offset
            assert outcome.refused == []
            sent += outcome.accepted
            snapshots[cut] = (await states(env, contract_ids), export_lines(sent, cut, "simulation"))
        outcome = await drive(env, env.client, queue, plans, lambda d, t: None, store, offset=offset, start=False)
        sent += outcome.accepted
        assert outcome.refused == []
        finals = {cid: business(await service.handle(env.client, cid).result()) for cid in contract_ids}

    for cut, (expected, lines) in snapshots.items():
        path = tmp_path / f"reprise-{cut}.jsonl"
        path.write_text(dump_lines(lines))
        async with stack(postgres_server_url) as (env, store, queue):
            # This stack's clock: late on the cut day. Half an hour before its end, because the server's clock runs on
            # in real time while the contracts are imported, and no calendar fact falls in that half hour (they are
            # all at midnight in Paris).
            offset = end_of_day(cut) - UNTIL_MARGIN - await env.get_current_time()
            by_contract: dict[str, list[Any]] = defaultdict(list)
            for n, text in enumerate(path.read_text().splitlines(), 1):
                raw = json.loads(text)
                by_contract[raw["contract_id"]].append((n, raw))
            for cid, raw_lines in by_contract.items():
                importer = actors_for(REFERENCE_TERRITORIES[raw_lines[0][1].get("territory_id") or cid])["prefet"]
                parsed = tuple(parse_line(raw, n, importer, end_of_day(cut)) for n, raw in raw_lines)
                result = await service.import_contract(
                    env.client, queue, cid, parsed, store=store, clock_offset_s=offset.total_seconds()
                )
                assert result.events > 0
            imported = await states(env, [cid for cid in contract_ids if cid in by_contract])
            for cid, state in imported.items():
                assert state == expected[cid], f"{cid} at {cut}"
            assert set(by_contract) == {cid for cid, s in expected.items() if s["status"] != "NONE"}

            # The workflows carry on from the cut with the right timers: the same commands give the same ends.
            outcome = await drive(
                env,
                env.client,
                queue,
                replay_plans(sent, cut, territories),
                lambda d, t: None,
                store,
                offset=offset,
                start=False,
            )
            assert outcome.refused == []
            for cid in by_contract:
                assert business(await service.handle(env.client, cid).result()) == finals[cid], f"{cid} after {cut}"
            async with store.pool.acquire() as conn:
                assert (await verify(conn)).ok
