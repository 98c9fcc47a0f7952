"""Record the Temporal histories of whole lifecycles, for the replay test (`tests/integration/test_replay.py`).

Run it after a deliberate, compatible change of the histories' shape (see the README, "Changing a workflow safely"):

    .venv/bin/python -m tests.histories.record

It drives a métropole and a département (with a suspension and a late report) through 2024–2027 on the
time-skipping test server and an embedded PostgreSQL, and writes one JSON file per workflow run beside this script.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.territories import REFERENCE_TERRITORIES
from eventstore.store import EventStore
from pacte import service
from pacte.embedded import binary_path, ensure_database, start_embedded_postgres
from pacte.runtime import build_worker
from pacte.simulate import drive
from pacte.simulation import plan_for

HERE = Path(__file__).parent
RECORDED = [("243500139", False), ("D13", True)]  # Rennes Métropole; Bouches-du-Rhône with incidents


def pick_plan(territory_id: str, incidents: bool):  # type: ignore[no-untyped-def]
    for seed in range(1000):  # with incidents: a suspension and a late report, but no termination
        plan = plan_for(REFERENCE_TERRITORIES[territory_id], seed, incidents=incidents)
        if not incidents or (plan.suspended_in and plan.late_report and not plan.terminated_in):
            return plan
    raise AssertionError("no such seed")


async def main() -> None:
    server = start_embedded_postgres(Path(tempfile.mkdtemp(prefix="pacte-record-")))
    store = await EventStore.connect(await ensure_database(server.get_uri(), "record"))  # type: ignore[attr-defined]
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=binary_path("temporal-test-server")
    )
    for old in HERE.glob("*.json"):
        old.unlink()
    try:
        async with build_worker(env.client, store, "record"):
            plans = [pick_plan(t, incidents) for t, incidents in RECORDED]
            await drive(env, env.client, "record", plans, lambda d, t: None)
            for plan in plans:
                await service.handle(env.client, plan.contract_id).result()
                run_ids = list(dict.fromkeys(e.metadata["run_id"] for e in await store.read_stream(plan.contract_id)))
                for n, run_id in enumerate(run_ids, 1):
                    history = await env.client.get_workflow_handle(plan.contract_id, run_id=run_id).fetch_history()
                    path = HERE / f"{plan.contract_id}-run{n}.json"
                    path.write_text(json.dumps(json.loads(history.to_json()), separators=(",", ":")))
                    print(f"{path.name}: {len(history.events)} history events")
    finally:
        await env.shutdown()
        await store.close()
        server.cleanup()  # type: ignore[attr-defined]


if __name__ == "__main__":
    asyncio.run(main())
