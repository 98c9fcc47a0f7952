"""`python -m bench.eventstore`: the event store against plain asyncpg and the eventsourcing library, same server.

Prints one JSON object. Every figure has its baseline measured in the same run, interleaved in rounds (the machine is
shared and noisy: the ratio means something, an absolute rate little). The server is PACTE_BENCH_DATABASE_URL, else
PACTE_TEST_DATABASE_URL, else an embedded PostgreSQL in a temporary folder; a fresh database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench.database import bench_database
from domain.actors import Actor, Role
from domain.axes import Axis, TerritoryKind
from domain.events import ActionChanged, ContractProposed, Event
from domain.evolve import evolve
from domain.state import INITIAL_STATE
from domain.upcasting import parse_event
from domain.values import Action, Indicator, Nature, YearAmounts
from eventstore.records import NewEvent, new_event_from
from eventstore.store import EventStore, StoreConnection

ACTOR = Actor(role=Role.PREFET, identity="bench", scope=("*",))
T0 = datetime(2024, 1, 1, tzinfo=UTC)

BASELINE_TABLE = """
CREATE TABLE baseline_events (
    global_position bigserial PRIMARY KEY,
    stream_id text NOT NULL, version integer NOT NULL, event_id uuid NOT NULL UNIQUE, event_type text NOT NULL,
    schema_version integer NOT NULL, payload jsonb NOT NULL, metadata jsonb NOT NULL,
    occurred_at timestamptz NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(),
    prev_hash bytea, hash bytea, UNIQUE (stream_id, version))"""
BASELINE_INSERT = """INSERT INTO baseline_events (stream_id, version, event_id, event_type, schema_version, payload,
                     metadata, occurred_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"""


def contract_events(stream: str, count: int) -> list[Event]:
    """A realistic contract history: a proposal, then ``count - 1`` changes of an action (about 1 kB each)."""
    base = {"contract_id": stream, "actor": ACTOR, "request_id": "bench"}
    out: list[Event] = [
        ContractProposed(
            **base,
            occurred_at=T0,
            territory_id="243300316",
            territory_name="Bordeaux Métropole",
            kind=TerritoryKind.METROPOLE,
            region="75",
            departements=("33",),
            annual_ceiling=150_000_000,
        )
    ]
    for i in range(1, count):
        amounts = {y: YearAmounts(etat=i * 100, collectivite=i * 100) for y in range(2024, 2028)}
        out.append(
            ActionChanged(
                **{**base, "request_id": f"bench-{i}"},
                occurred_at=T0 + timedelta(seconds=i),
                action=Action(
                    action_id=f"A{i % 8}",
                    axis=list(Axis)[i % 4],
                    objective="Prévenir le décrochage scolaire des 11–15 ans",
                    title="Accompagnement renforcé des familles",
                    nature=Nature.NEW,
                    public="familles précaires",
                    zone="quartiers prioritaires",
                    indicators=(
                        Indicator(code="beneficiaires", label="Bénéficiaires", baseline=100, targets={2024: 120}),
                    ),
                    amounts=amounts,
                ),
            )
        )
    return out


def stored(stream: str, events: list[Event], first_version: int = 1) -> list[NewEvent]:
    return [
        new_event_from(stream, first_version + i, e, workflow_id=stream, run_id="bench") for i, e in enumerate(events)
    ]


def baseline_row(stream: str, version: int, e: NewEvent) -> tuple[Any, ...]:
    return (
        stream,
        version,
        uuid.uuid4(),
        e.event_type,
        e.schema_version,
        json.dumps(e.payload),
        json.dumps(e.metadata),
        e.occurred_at,
    )


DEFAULT_ROUNDS = 7
ROUNDS = DEFAULT_ROUNDS  # --rounds; --quick: 3


CPU_US: dict[str, list[float]] = {"ours": [], "baseline": []}  # this process's CPU per event, per round


async def rounds(
    ours: Callable[[], Awaitable[float]],
    theirs: Callable[[], Awaitable[float]],
    n: int | None = None,
    *,
    rates: bool = True,
) -> tuple[list[float], list[float]]:
    """The two measurements interleaved ``n`` times (baseline first, then ours, each round): a slow patch of the
    machine hits both, so each round's ratio means something even when the absolute rates drift. For rates, the
    client's CPU per event of each side is kept too (see ``summary``)."""
    a: list[float] = []
    b: list[float] = []
    CPU_US["ours"].clear()
    CPU_US["baseline"].clear()
    for _ in range(n or ROUNDS):
        for side, measure, values in (("baseline", theirs, b), ("ours", ours, a)):
            values.append(await measure())
            if rates:  # events = rate × wall of the last timed call
                CPU_US[side].append(LAST["cpu"] / (values[-1] * LAST["wall"]) * 1e6)
    return a, b


def summary(
    ours: list[float], base: list[float], unit: str, base_name: str, ratio_of_time: bool = False
) -> dict[str, Any]:
    """Medians of each side, and the ratio per round: its median and its spread (min–max). For throughputs the
    ratio is ours/baseline (higher is better); for times, ours/baseline too (lower is better)."""
    ratios = [o / b for o, b in zip(ours, base, strict=True)]
    digits = 1 if unit == "ms" else 0
    scale = 1000 if unit == "ms" else 1
    return {
        unit: round(statistics.median(ours) * scale, digits),
        base_name: round(statistics.median(base) * scale, digits),
        "ratio": round(statistics.median(ratios), 3),
        "ratio_min": round(min(ratios), 3),
        "ratio_max": round(max(ratios), 3),
        "rounds": len(ratios),
        "better": "lower" if ratio_of_time else "higher",
    } | (
        {}
        if ratio_of_time
        else {
            # Where the time goes on a 2-core machine shared with the server: the client's own CPU per event.
            "client_cpu_us_per_event": round(statistics.median(CPU_US["ours"])),
            "baseline_client_cpu_us_per_event": round(statistics.median(CPU_US["baseline"])),
        }
    )


LAST = {"wall": 0.0, "cpu": 0.0}  # the last timed call's wall and CPU seconds (this process, all threads)


async def timed(fn: Callable[[], Awaitable[Any]]) -> float:
    start, cpu = time.perf_counter(), time.process_time()
    await fn()
    LAST["cpu"] = time.process_time() - cpu
    LAST["wall"] = time.perf_counter() - start
    return LAST["wall"]


class Bench:
    def __init__(self, store: EventStore, raw: asyncpg.Pool, n: int) -> None:
        self.store, self.raw, self.n = store, raw, n
        self.events = stored("x", contract_events("x", n))
        self.k = 0

    def stream(self, prefix: str) -> str:
        self.k += 1
        return f"{prefix}-{self.k}"

    async def ours_single(self, count: int, prefix: str = "bench") -> float:
        stream = self.stream(prefix)
        events = stored(stream, contract_events(stream, count))

        async def run() -> None:
            for i, e in enumerate(events):
                await self.store.append(stream, i, [e])

        return count / await timed(run)

    async def baseline_single(self, count: int) -> float:
        stream = self.stream("base")

        async def run() -> None:
            for i, e in enumerate(self.events[:count]):
                await self.raw.execute(BASELINE_INSERT, *baseline_row(stream, i + 1, e))

        return count / await timed(run)

    async def ours_writers(self, writers: int, per: int, prefix: str = "bench") -> float:
        streams = [self.stream(prefix) for _ in range(writers)]
        batches = {s: stored(s, contract_events(s, per)) for s in streams}

        async def one(stream: str) -> None:
            for i, e in enumerate(batches[stream]):
                await self.store.append(stream, i, [e])

        return writers * per / await timed(lambda: asyncio.gather(*(one(s) for s in streams)))

    async def baseline_writers(self, writers: int, per: int) -> float:
        streams = [self.stream("base") for _ in range(writers)]

        async def one(stream: str) -> None:
            for i, e in enumerate(self.events[:per]):
                await self.raw.execute(BASELINE_INSERT, *baseline_row(stream, i + 1, e))

        return writers * per / await timed(lambda: asyncio.gather(*(one(s) for s in streams)))

    async def ours_batch(self, count: int) -> float:
        stream = self.stream("batch")
        events = stored(stream, contract_events(stream, count))
        return count / await timed(lambda: self.store.append(stream, 0, events))

    async def copy_batch(self, count: int) -> float:
        stream = self.stream("base")
        rows = [baseline_row(stream, i + 1, e) for i, e in enumerate(self.events[:count])]

        async def run() -> None:
            async with self.raw.acquire() as conn:
                await conn.copy_records_to_table(
                    "baseline_events",
                    records=rows,
                    columns=[
                        "stream_id",
                        "version",
                        "event_id",
                        "event_type",
                        "schema_version",
                        "payload",
                        "metadata",
                        "occurred_at",
                    ],
                )

        return count / await timed(run)


async def replay(store: EventStore, stream: str) -> int:
    """Read, parse and fold a whole stream, as the auditors' replay and the projector's cold start do."""
    state = INITIAL_STATE
    for event in await store.load_events(stream):
        state = evolve(state, event)
    return state.version


def eventsourcing_rate(url: str, count: int) -> float:
    """The eventsourcing library's PostgreSQL application recorder, one event per insert, on the same server."""
    from urllib.parse import parse_qs, urlparse

    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    parsed = urlparse(url)
    host = parse_qs(parsed.query).get("host", [parsed.hostname or "127.0.0.1"])[0]
    datastore = PostgresDatastore(
        dbname=parsed.path.lstrip("/"),
        host=host,
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password or "",
    )
    recorder = PostgresApplicationRecorder(datastore, events_table_name=f"es_{uuid.uuid4().hex[:8]}")
    recorder.create_table()
    payload = json.dumps(stored("x", contract_events("x", 2))[1].payload).encode()
    originator = uuid.uuid4()
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(count):
        recorder.insert_events(
            [StoredEvent(originator_id=originator, originator_version=i, topic="bench:ActionChanged", state=payload)]
        )
    elapsed = time.perf_counter() - start
    LAST["cpu"], LAST["wall"] = time.process_time() - cpu, elapsed
    datastore.close()
    return count / elapsed


async def bench(url: str, n: int, big: int) -> dict[str, Any]:
    store = await EventStore.connect(url, max_size=10)
    # The baseline's pool is the store's own: asyncpg's default pool sends a reset query on every release (a second
    # round trip); the store does without, and a baseline paying it would flatter every ratio.
    raw = await asyncpg.create_pool(url, min_size=8, max_size=10, connection_class=StoreConnection)
    await raw.execute(BASELINE_TABLE)
    b = Bench(store, raw, max(n, 1000))
    await b.ours_single(50)
    await b.baseline_single(50)  # warm both paths

    result: dict[str, Any] = {}
    # A contract's stream (``cls-``): the read models are written in the same transaction, as for every real append.
    ours, base = await rounds(lambda: b.ours_single(n, prefix="cls-bench"), lambda: b.baseline_single(n))
    result["append_single"] = summary(ours, base, "events_per_s", "baseline_per_s")
    ours, base = await rounds(lambda: b.ours_single(n, prefix="plain"), lambda: b.baseline_single(n))
    result["append_single_without_projection"] = summary(ours, base, "events_per_s", "baseline_per_s")
    ours, base = await rounds(
        lambda: b.ours_writers(8, n // 8, prefix="cls-writer"), lambda: b.baseline_writers(8, n // 8)
    )
    result["append_8_writers"] = summary(ours, base, "events_per_s", "baseline_per_s")
    ours, base = await rounds(lambda: b.ours_batch(1000), lambda: b.copy_batch(1000))
    result["append_batch_1000"] = summary(ours, base, "events_per_s", "copy_baseline_per_s")

    stream = "cls-replay"
    await store.append(stream, 0, stored(stream, contract_events(stream, 1000)))
    base_stream = b.stream("base")
    await raw.executemany(BASELINE_INSERT, [baseline_row(base_stream, i + 1, e) for i, e in enumerate(b.events[:1000])])

    # A replay takes milliseconds: one garbage collection or scheduler hiccup doubles a single run, so each side of a
    # round is the median of five runs (single runs gave ratios from 0.9 to 9 in one benchmark).
    async def median_of_5(fn: Callable[[], Awaitable[Any]]) -> float:
        return statistics.median([await timed(fn) for _ in range(5)])

    ours, base = await rounds(
        lambda: median_of_5(lambda: replay(store, stream)),
        lambda: median_of_5(
            lambda: raw.fetch("SELECT * FROM baseline_events WHERE stream_id = $1 ORDER BY version", base_stream)
        ),
        n=max(5, ROUNDS),
        rates=False,
    )
    result["replay_1000"] = summary(ours, base, "ms", "select_baseline_ms", ratio_of_time=True)

    es_count = min(n, 1000)

    async def theirs_rate() -> float:
        return await asyncio.to_thread(eventsourcing_rate, url, es_count)

    ours, base = await rounds(lambda: b.ours_single(es_count, prefix="plain"), theirs_rate)
    result["eventsourcing_library"] = summary(ours, base, "events_per_s", "eventsourcing_per_s")

    # 100 000 events in one stream, replayed streamed by a separate process whose peak memory is measured.
    big_stream = "cls-big"
    events = contract_events(big_stream, big)
    for start in range(0, big, 1000):
        await store.append(big_stream, start, stored(big_stream, events[start : start + 1000], start + 1))
    child = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bench.eventstore", "--replay-child", url, big_stream],
        capture_output=True,
        text=True,
        check=True,
    )
    measured = json.loads(child.stdout)
    result[f"peak_rss_mb_replay_{big // 1000}k"] = measured["peak_rss_mb"]
    result[f"replay_{big // 1000}k_s"] = measured["seconds"]
    await raw.close()
    await store.close()
    return result


def vm_hwm_mb(pid: int | str = "self") -> float | None:
    """A live process's peak resident memory so far (Linux), None when it is gone."""
    with contextlib.suppress(OSError, StopIteration):
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        return int(next(x for x in lines if x.startswith("VmHWM:")).split()[1]) / 1024
    return None


def peak_rss_mb() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through fork and exec.
    peak = vm_hwm_mb()
    if peak is not None:
        return peak
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover - not Linux


async def replay_child(url: str, stream: str) -> None:
    store = await EventStore.connect(url, min_size=1, max_size=1, apply_migrations=False)
    start = time.perf_counter()
    state = INITIAL_STATE
    async for e in store.iter_stream(stream):
        state = evolve(state, parse_event(e.payload))
    assert state.version == await store.stream_version(stream)
    seconds = time.perf_counter() - start
    await store.close()
    peak = peak_rss_mb()
    print(json.dumps({"peak_rss_mb": round(peak, 1), "seconds": round(seconds, 2), "version": state.version}))


async def environment(admin: asyncpg.Connection, which: str) -> dict[str, Any]:
    """What the figures were measured on: they compare only with figures of the same server and versions."""
    import importlib.metadata
    import os
    import platform

    versions = {name: importlib.metadata.version(name) for name in ("asyncpg", "temporalio", "eventsourcing")}
    return {
        "server": which,
        "postgres": await admin.fetchval("SHOW server_version"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "packages": versions,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000, help="events per single-append measurement")
    parser.add_argument("--big", type=int, default=100_000, help="events in the bounded-memory replay")
    parser.add_argument(
        "--rounds", type=int, default=DEFAULT_ROUNDS, help="interleaved rounds per measure (median, spread)"
    )
    parser.add_argument("--quick", action="store_true", help="3 rounds, 500 events, 10 000 in the big replay")
    parser.add_argument("--replay-child", nargs=2, metavar=("URL", "STREAM"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replay_child:
        await replay_child(*args.replay_child)
        return
    global ROUNDS
    ROUNDS = 3 if args.quick else args.rounds
    events, big = (500, 10_000) if args.quick else (args.events, args.big)
    async with bench_database() as (url, admin, which):
        started = time.perf_counter()
        result = await bench(url, events, big)
        result["run"] = await environment(admin, which) | {
            "quick": args.quick,
            "rounds": ROUNDS,
            "events": events,
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
