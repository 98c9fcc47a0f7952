"""`python -m bench.scale`: the whole 2024–2027 programme at 123, 1 000 and 5 000 contracts, with 1 and 2 workers.

Each run: a fresh database, a fresh time-skipping Temporal test server, ``--workers`` `pacte worker` processes (each
its own Python, so two use both cores), and this process driving every contract's operator commands day by day as
`pacte simulate` does (beyond the 123 real territories, synthetic intercommunalités). Reported per run: wall time
(workers polling → every contract finished), events and events/s, peak memory of the driver and of each worker
(VmHWM), the database's size, and then the auditor's queries on the store so filled — the timeline, the state as of a
date and the export of the contract with the longest history, and a verify of the whole store — each repeated, as
medians with their spread. ``growth`` compares each size with the smallest: per-contract cost, events/s, query times.

Prints one JSON line per run as it ends (a long run shows progress on stderr), then the whole object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from bench.database import bench_database
from bench.eventstore import environment, peak_rss_mb, vm_hwm_mb
from domain.actors import Actor, Role
from eventstore.store import EventStore
from pacte import service
from pacte.codec import data_converter
from pacte.embedded import SERVER_STARTUP, binary_path
from pacte.keyring import Keyring
from pacte.logging import configure_logging
from pacte.runtime import configure_temporal_runtime
from pacte.service.exports import csv_lines
from pacte.service.facade import Pacte
from pacte.settings import Settings
from pacte.simulate import choose_territories, drive
from pacte.simulation import Plan, plan_for

AUDITOR = Actor(role=Role.AUDITOR, identity="bench-auditor", scope=("*",))
PACTE = str(Path(sys.executable).parent / "pacte")
SEED = 2024

# The bench's servers are its own: a keyring of this run seals their payloads, as the service's keyring does.
KEYRING = Keyring.generate("bench")
CONVERTER = data_converter(KEYRING)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_workers(count: int, address: str, url: str, queue: str) -> list[tuple[subprocess.Popen[bytes], int]]:
    workers = []
    for _ in range(count):
        port = free_port()
        environment = os.environ | {
            "PACTE_TEMPORAL_ADDRESS": address,
            "PACTE_DATABASE_URL": url,
            "PACTE_TASK_QUEUE": queue,
            "PACTE_KEYRING": KEYRING.to_json(),
            "PACTE_LOG_LEVEL": "WARNING",
            "PACTE_METRICS_PORT": str(port),  # served once the worker polls: the sign that it is ready
            "PACTE_TEMPORAL_SEARCH_ATTRIBUTES": "false",  # the test server keeps no search attributes
        }
        process = subprocess.Popen([PACTE, "worker"], env=environment, stdout=subprocess.DEVNULL)
        workers.append((process, port))
    return workers


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process so far (Linux /proc), 0 when it is gone."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def processes(*, parent: int | None = None, containing: str) -> list[int]:
    """Live processes whose command line contains ``containing`` (and whose parent is ``parent``, when given)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            if containing not in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                continue
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent is None or ppid == parent:
                found.append(int(entry.name))
    return found


def cpu_now(workers: list[tuple[subprocess.Popen[bytes], int]], database: str) -> dict[str, Any]:
    """CPU seconds so far of the workers, the test server this process started, and this database's backends."""
    server = sum(cpu_seconds(pid) for pid in processes(parent=os.getpid(), containing="temporal-test-server"))
    return {
        "driver": time.process_time(),
        "workers": [cpu_seconds(p.pid) for p, _ in workers],
        "test_server": server,
        "postgres_backends": sum(cpu_seconds(pid) for pid in processes(containing=f" {database} ")),
    }


def cpu_of_run(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Where the run's CPU went (start-ups excluded): the first wall is whoever is busiest. PostgreSQL's figure is
    a lower bound: a backend whose connection closed during the run took its CPU seconds with it."""
    return {
        "driver": round(after["driver"] - before["driver"], 1),
        "workers": [round(a - b, 1) for a, b in zip(after["workers"], before["workers"], strict=True)],
        "test_server": round(after["test_server"] - before["test_server"], 1),
        "postgres_backends": round(after["postgres_backends"] - before["postgres_backends"], 1),
    }


async def until_ready(workers: list[tuple[subprocess.Popen[bytes], int]]) -> None:
    deadline = time.monotonic() + 60
    for process, port in workers:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"a worker exited with {process.returncode} before it was ready")
            try:
                await asyncio.to_thread(urllib.request.urlopen, f"http://127.0.0.1:{port}/metrics", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("a worker was not ready within a minute") from None
                await asyncio.sleep(0.2)


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - start) * 1000)
    return {
        "ms": round(statistics.median(times), 1),
        "ms_min": round(min(times), 1),
        "ms_max": round(max(times), 1),
        "rounds": repeat,
    }


async def auditor_queries(store: EventStore, settings: Settings, repeat: int) -> dict[str, Any]:
    """What an auditor asks of the filled store, through the same service layer as the API and the web."""
    pacte = Pacte(client=None, store=store, settings=settings)  # type: ignore[arg-type]  # no query needs Temporal
    longest = await store.pool.fetchrow(
        "SELECT stream_id, version FROM streams WHERE category = 'cls' ORDER BY version DESC, stream_id LIMIT 1"
    )
    assert longest is not None, "no contract was recorded"
    contract_id, version = longest["stream_id"], longest["version"]

    async def export() -> int:
        lines = 0
        async for _ in csv_lines((await pacte.export(AUDITOR, contract_id)).rows):
            lines += 1
        return lines

    async def verify() -> None:
        report = await pacte.verify(AUDITOR)
        assert report.ok, report

    return {
        "contract": contract_id,
        "events_in_contract": version,
        "timeline": await timed(lambda: pacte.timeline(AUDITOR, contract_id), repeat),
        "as_of": await timed(lambda: pacte.as_of(AUDITOR, contract_id, date(2025, 6, 30)), repeat),
        "export_contract_csv": await timed(export, repeat),
        "verify_store": await timed(verify, max(1, repeat // 2)),
    }


async def one_shard(
    plans: list[Plan], count: int, url: str, database: str, store: EventStore, label: str
) -> dict[str, Any]:
    """Some contracts' whole programme on a fresh time-skipping server with ``count`` fresh workers."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=CONVERTER,
        test_server_existing_path=binary_path("temporal-test-server"),
        test_server_startup_timeout=SERVER_STARTUP,
    )
    queue = f"scale-{uuid.uuid4().hex[:6]}"
    started = start_workers(count, env.client.service_client.config.target_host, url, queue)
    try:
        await until_ready(started)
        shown = [0]

        def progress(done: int, total: int) -> None:
            if done * 10 // max(total, 1) > shown[0]:
                shown[0] = done * 10 // max(total, 1)
                print(f"  {label}: {done}/{total} steps", file=sys.stderr)

        start, cpu_before = time.perf_counter(), cpu_now(started, database)
        outcome = await drive(env, env.client, queue, plans, progress, store)
        for plan in plans:
            await service.handle(env.client, plan.contract_id).result()
        return {
            "wall": time.perf_counter() - start,
            "commands": outcome.commands,
            "refused": len(outcome.refused),
            "worker_peaks": [round(vm_hwm_mb(p.pid) or 0, 1) for p, _ in started],
            "cpu": cpu_of_run(cpu_before, cpu_now(started, database)),
        }
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        await env.shutdown()


async def one_run(contracts: int, count: int, repeat: int, shard: int = 1000) -> dict[str, Any]:
    """The programme for ``contracts`` contracts, at most ``shard`` of them per time-skipping server (one after
    the other, into the same store): a test server slows down as it holds more workflows (see the README)."""
    territories = choose_territories(str(contracts), SEED)
    plans = [plan_for(t, SEED) for t in territories]
    async with bench_database() as (url, admin, _):
        database = url.rpartition("/")[2].partition("?")[0]
        store = await EventStore.connect(url, max_size=20)
        shards = []
        for first in range(0, len(plans), shard):
            label = f"{contracts} contracts, {count} worker(s), shard {first // shard + 1}"
            shards.append(await one_shard(plans[first : first + shard], count, url, database, store, label))
        wall = sum(s["wall"] for s in shards)
        cpu = {
            key: round(sum(s["cpu"][key] for s in shards), 1) for key in ("driver", "test_server", "postgres_backends")
        } | {"workers": [round(sum(s["cpu"]["workers"][i] for s in shards), 1) for i in range(count)]}
        worker_peaks = [max(s["worker_peaks"][i] for s in shards) for i in range(count)]
        outcome_commands = sum(s["commands"] for s in shards)
        outcome_refused = sum(s["refused"] for s in shards)
        events = await store.pool.fetchval("SELECT count(*) FROM events")
        size = await admin.fetchval("SELECT pg_database_size($1)", database)
        queries = await auditor_queries(store, Settings(), repeat)
        await store.close()
    return {
        "contracts": contracts,
        "workers": count,
        "synthetic": max(0, contracts - 123),
        "wall_s": round(wall, 1),
        "events": events,
        "commands": outcome_commands,
        "refused": outcome_refused,
        "shards": len(shards),
        "shard_walls_s": [round(s["wall"], 1) for s in shards],
        "events_per_s": round(events / wall, 1),
        "ms_per_contract": round(wall / contracts * 1000, 1),
        "peak_rss_mb_driver": round(peak_rss_mb(), 1),
        "peak_rss_mb_workers": worker_peaks,
        "database_mb": round(size / 2**20, 1),
        # CPU seconds of each process during the run; the machine offers (cores × wall_s) of them.
        "cpu_s": cpu,
        "cores": os.cpu_count(),
        "auditor": queries,
    }


def growth(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each run against the smallest run with the same number of workers: 1.0 is linear (constant per-contract cost)."""
    out = []
    for run in runs:
        base = min((r for r in runs if r["workers"] == run["workers"]), key=lambda r: r["contracts"])
        if base is run:
            continue
        out.append(
            {
                "contracts": f"{base['contracts']} → {run['contracts']}",
                "workers": run["workers"],
                "per_contract_cost": round(run["ms_per_contract"] / base["ms_per_contract"], 2),
                "events_per_s": round(run["events_per_s"] / base["events_per_s"], 2),
                "verify_store": round(run["auditor"]["verify_store"]["ms"] / base["auditor"]["verify_store"]["ms"], 2),
                "timeline": round(run["auditor"]["timeline"]["ms"] / base["auditor"]["timeline"]["ms"], 2),
            }
        )
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contracts", default="123,1000,5000", help="comma-separated sizes (default 123,1000,5000)")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    parser.add_argument("--repeat", type=int, default=7, help="rounds of each auditor query (median, spread)")
    parser.add_argument(
        "--shard", type=int, default=1000, help="contracts per time-skipping test server, one after the other"
    )
    parser.add_argument("--quick", action="store_true", help="20 and 60 contracts, 1 worker, 3 rounds")
    parser.add_argument("--one", nargs=2, type=int, metavar=("CONTRACTS", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # one run in its own process, so that its driver's peak memory is its own
        json_out = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)
        configure_logging("WARNING", "json")
        configure_temporal_runtime(metrics=False)
        print(json.dumps(await one_run(args.one[0], args.one[1], args.repeat, args.shard)), file=json_out, flush=True)
        return
    sizes = [int(x) for x in args.contracts.split(",")]
    counts = [int(x) for x in args.workers.split(",")]
    if args.quick:
        sizes, counts, args.repeat = [20, 60], [1], 3
    started = time.perf_counter()
    runs = []
    for size in sizes:
        for count in counts:
            child = await asyncio.to_thread(
                subprocess.run,
                [
                    sys.executable,
                    "-m",
                    "bench.scale",
                    "--one",
                    str(size),
                    str(count),
                    "--repeat",
                    str(args.repeat),
                    "--shard",
                    str(args.shard),
                ],
                stdout=subprocess.PIPE,
                text=True,
                check=True,
            )
            run = json.loads(child.stdout.strip().splitlines()[-1])
            runs.append(run)
            print(json.dumps(run), flush=True)
    async with bench_database() as (_, admin, which):
        run_info = await environment(admin, which)
    result = {
        "runs": runs,
        "growth": growth(runs),
        "run": run_info | {"quick": args.quick, "seconds": round(time.perf_counter() - started, 1)},
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
