"""Record the Temporal histories of a release, for the replay test (`tests/integration/test_replay.py`).

Run it once per release whose workflow code changed (see the README, "Changing a workflow safely"):

    .venv/bin/python -m tests.histories.record 2026.12-rules-in-force

It writes one JSON file per workflow run into ``tests/histories/<release>/`` and never touches another release's
files: the histories of every release are kept and replayed, because a contract started under an old release may still
be running under a new one. A release's directory, once written, is not written again (the command refuses).

Recorded as in production: the contracts publish their search attributes (registered on the test server as
``pacte search-attributes`` registers them on a cluster). What is recorded:

- whole lifecycles 2024–2027: a métropole, and a département with a suspension and a late report;
- a campaign proposing contracts to territories in its préfet's scope, refusing one outside it and one unknown, and
  a campaign whose children are refused when they start (dated after their clock: the run ends with no contract);
- failure paths: an append the event store refuses (the command fails, nothing is folded, the same command sent
  again is recorded) and a command refused by the rules after its validation passed (two signatures of the same
  party sent together).

The time-skipping test server and an embedded PostgreSQL, from the PyPI packages: nothing to install.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.actors import Actor, Role
from domain.axes import Axis
from domain.commands import COMMAND_ADAPTER, Command
from domain.errors import DomainError
from domain.territories import REFERENCE_TERRITORIES
from eventstore.store import EventStore
from pacte import service
from pacte.embedded import SERVER_STARTUP, binary_path, ensure_database, start_embedded_postgres
from pacte.runtime import build_worker
from pacte.service.admin import SEARCH_ATTRIBUTE_TYPES
from pacte.simulate import drive
from pacte.simulation import plan_for
from tests.sealing import RECORDING_CONVERTER
from tests.unit.builders import action
from workflows.campaign import CampaignWorkflow
from workflows.models import CampaignInput

HERE = Path(__file__).parent
RELEASE = re.compile(r"^[0-9a-z][0-9a-z.-]{0,60}$")
RECORDED = [("243500139", False), ("D13", True)]  # Rennes Métropole; Bouches-du-Rhône with incidents
QUEUE = "record"
# Territories of the campaigns and the failure paths: none of the lifecycles'.
CAMPAIGN_PREFET = Actor(role=Role.PREFET, identity="prefet-grand-est", scope=("08", "10", "51"))
FAILURES = "D19"  # Corrèze: the failure paths
FAILURES_PREFET = Actor(role=Role.PREFET, identity="prefet-correze", scope=("19",))
FAILURES_COLL = Actor(role=Role.COLLECTIVITE, identity="dgs-d19", scope=("D19",))


def pick_plan(territory_id: str, incidents: bool):  # type: ignore[no-untyped-def]
    for seed in range(1000):  # with incidents: a suspension and a late report, but no termination
        plan = plan_for(REFERENCE_TERRITORIES[territory_id], seed, incidents=incidents)
        if not incidents or (plan.suspended_in and plan.late_report and not plan.terminated_in):
            return plan
    raise AssertionError("no such seed")


class RefusingStore:
    """The event store, except that it refuses the next append of one stream once (a value it cannot hold, as the
    activity reports it): the workflow's failure path for an append, recorded in its history."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.refuse: str | None = None

    async def append(self, stream_id: str, *args: Any, **kwargs: Any) -> Any:
        if stream_id == self.refuse:
            self.refuse = None
            raise ValueError("refused once, for the recorded failure path")
        return await self._store.append(stream_id, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


async def register_search_attributes(client: Client) -> None:
    types = {"Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT}
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={name: types[kind] for name, kind in SEARCH_ATTRIBUTE_TYPES.items()},
        )
    )


async def campaign(
    client: Client, campaign_id: str, territories: tuple[str, ...], at: datetime, actor: Actor = CAMPAIGN_PREFET
) -> None:
    request = CampaignInput(
        campaign_id=campaign_id,
        territories=territories,
        annual_ceiling=80_000_000,
        actor=actor,
        request_prefix=f"campaign-{campaign_id}",
        at=at,
        search_attributes=True,
    )
    handle = await client.start_workflow(CampaignWorkflow.run, request, id=f"campaign-{campaign_id}", task_queue=QUEUE)
    progress = await asyncio.wait_for(handle.result(), timeout=120)
    print(f"campaign-{campaign_id}: started {progress.started}, refused {sorted(progress.refused)}")


def command(kind: str, actor: Actor, at: datetime, **fields: Any) -> Command:
    body = {"type": kind, "contract_id": f"cls-{FAILURES.lower()}", "actor": actor, "request_id": str(uuid.uuid4())}
    return COMMAND_ADAPTER.validate_python(body | {"at": at} | fields)


async def failure_paths(env: WorkflowEnvironment, store: RefusingStore) -> None:
    client = env.client
    offset = (datetime(2024, 1, 20, 9, tzinfo=UTC) - await env.get_current_time()).total_seconds()
    at = datetime(2024, 1, 15, 10, tzinfo=UTC)
    propose = command("ProposeContract", FAILURES_PREFET, at, territory_id=FAILURES, annual_ceiling=100_000_000)
    await service.propose(client, QUEUE, propose, clock_offset_s=offset, search_attributes=True)
    added = command("AddAction", FAILURES_PREFET, at, action=action("A1", Axis.ENFANCE, 100_000))
    store.refuse = added.contract_id
    try:
        await service.send_command(client, added)
        raise AssertionError("the append was to be refused")
    except DomainError as error:
        print(f"cls-{FAILURES.lower()}: {error.code}: {error.message}")
    # Sent again as a new request (the update id is the request id: Temporal answers a repeated one with its outcome).
    await service.send_command(client, added.model_copy(update={"request_id": str(uuid.uuid4())}))
    for kind, fields in (
        ("AddAction", {"action": action("A2", Axis.GRANDE_EXCLUSION, 100_000)}),
        ("AddAction", {"action": action("A3", Axis.TRANSITION_ECOLOGIQUE, 100_000)}),
        (
            "RecordDeliberation",
            {"deliberation": {"body": "assemblee", "voted_on": date(2024, 1, 15), "reference": "DEL-19"}},
        ),
    ):
        actor = FAILURES_COLL if kind == "RecordDeliberation" else FAILURES_PREFET
        await service.send_command(client, command(kind, actor, at, **fields))
    # The same party signs twice at once: both pass the validator, the second is refused by the handler.
    signatures = [
        command("SignContract", FAILURES_PREFET, at, party="etat", signatory="Préfète de la Corrèze") for _ in range(2)
    ]
    answers = await asyncio.gather(*(service.send_command(client, s) for s in signatures), return_exceptions=True)
    print(f"cls-{FAILURES.lower()}: signed twice at once: {[type(a).__name__ for a in answers]}")


async def write_runs(client: Client, store: EventStore, workflow_id: str, into: Path) -> None:
    run_ids = list(dict.fromkeys(e.metadata["run_id"] for e in await store.read_stream(workflow_id)))
    last = (await client.get_workflow_handle(workflow_id).describe()).run_id
    if last not in run_ids:  # a run that recorded no fact: a campaign, a child refused, the run after the last fact
        run_ids.append(last)
    for n, run_id in enumerate(run_ids, 1):
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        path = into / f"{workflow_id}-run{n}.json"
        path.write_text(json.dumps(json.loads(history.to_json()), separators=(",", ":")))
        print(f"{into.name}/{path.name}: {len(history.events)} history events")


async def main(release: str) -> None:
    into = HERE / release
    if not RELEASE.match(release):
        raise SystemExit(f"{release!r}: a release is named with lower-case letters, digits, dots and dashes")
    if into.exists():
        raise SystemExit(f"{into} exists: a release's histories are recorded once and kept as they are")
    server = start_embedded_postgres(Path(tempfile.mkdtemp(prefix="pacte-record-")))
    store = await EventStore.connect(await ensure_database(server.get_uri(), "record"))  # type: ignore[attr-defined]
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=RECORDING_CONVERTER,
        test_server_existing_path=binary_path("temporal-test-server"),
        test_server_startup_timeout=SERVER_STARTUP,
    )
    refusing = RefusingStore(store)
    try:
        await register_search_attributes(env.client)
        async with build_worker(env.client, refusing, QUEUE):  # type: ignore[arg-type]
            await failure_paths(env, refusing)
            await campaign(env.client, "record", ("D08", "D10", "D67", "999999999"), datetime(2023, 12, 1, tzinfo=UTC))
            future = await env.get_current_time() + timedelta(days=30)
            antilles = Actor(role=Role.PREFET, identity="prefet-antilles", scope=("971",))
            await campaign(env.client, "record-refused", ("D971",), future, antilles)
            plans = [pick_plan(t, incidents) for t, incidents in RECORDED]
            await drive(env, env.client, QUEUE, plans, lambda d, t: None, search_attributes=True)
            for plan in plans:
                await service.handle(env.client, plan.contract_id).result()
            into.mkdir()
            ids = [
                *(p.contract_id for p in plans),
                f"cls-{FAILURES.lower()}",
                "campaign-record",
                "cls-d08",
                "cls-d10",
                "campaign-record-refused",
                "cls-d971",
            ]
            for workflow_id in ids:
                await write_runs(env.client, store, workflow_id, into)
    finally:
        await env.shutdown()
        await store.close()
        server.cleanup()  # type: ignore[attr-defined]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("release", help="the release's name: its histories go to tests/histories/<release>/")
    asyncio.run(main(parser.parse_args().release))
