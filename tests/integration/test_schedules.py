"""The nightly verify (taking a signed anchor) and the reminders relay as Temporal Schedules (issue 27, item 11), on a
real Temporal dev server: created once at start, described, and each run when triggered."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.contracts import VerifyResult
from activities.operations import OperationsActivities, latest_anchor
from eventstore.integrity import Anchor
from eventstore.store import EventStore
from pacte.runtime import build_worker
from pacte.service.admin import start_schedules
from pacte.service.schedules import REMINDER_RELAY, STORE_VERIFY, describe_schedules, ensure_schedules
from pacte.settings import Settings, _secret
from tests.conftest import create_fresh_database, drop_database
from tests.integration.helpers import append_by_request
from tests.unit.builders import bordeaux_in_execution
from tests.waiting import eventually
from workflows.operations import StoreVerifyWorkflow

pytestmark = pytest.mark.integration


class Ops:
    def __init__(self, queue: str, root: Path, store: EventStore) -> None:
        self.queue = queue
        self.anchors = root / "anchors"
        self.relay_file = root / "relayed.jsonl"
        self.key_file = root / "anchor.key"
        self.activities = OperationsActivities(
            store,
            self.anchors,
            lambda: ("night", _secret(self.key_file)),
            lambda key_id: _secret(self.key_file),
            self.relay_file,
        )


@pytest.fixture(scope="module")
async def ops(
    temporal_env: WorkflowEnvironment, store: EventStore, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Ops]:
    """A worker with the scheduled operations, on its own queue, its anchors and relay file in a directory of its own."""
    found = Ops(f"ops-{uuid.uuid4().hex[:8]}", tmp_path_factory.mktemp("ops"), store)
    async with build_worker(temporal_env.client, store, found.queue, operations=found.activities):
        yield found


def read_anchor(path: str) -> Anchor:
    return Anchor.model_validate_json(Path(path).read_text())


async def triggered(client: Client, schedule_id: str) -> Any:
    """Trigger the schedule now and return its run's result (the run started by this trigger, not an earlier one)."""
    handle = client.get_schedule_handle(schedule_id)
    before = (await handle.describe()).info.num_actions
    await handle.trigger()

    async def started() -> str | None:
        info = (await handle.describe()).info
        return info.recent_actions[-1].action.workflow_id if info.num_actions > before else None  # type: ignore[attr-defined]

    workflow_id = await eventually(started, what=f"{schedule_id} started a run")
    return await client.get_workflow_handle(workflow_id).result()


async def test_the_schedules_exist_after_start_and_a_second_start_creates_none(client: Client, ops: Ops) -> None:
    assert sorted(await ensure_schedules(client, ops.queue)) == sorted([STORE_VERIFY, REMINDER_RELAY])
    # A second start (another worker, a restart) creates nothing and leaves one schedule of each.
    assert await ensure_schedules(client, ops.queue) == []
    views = {view.id: view for view in await describe_schedules(client)}
    assert set(views) == {STORE_VERIFY, REMINDER_RELAY}
    assert views[STORE_VERIFY].workflow == "StoreVerifyWorkflow" and not views[STORE_VERIFY].paused
    # Nightly, at 02:30 in Paris; the relay every 15 minutes.
    nights = views[STORE_VERIFY].next_runs
    assert len(nights) == 3 and nights[1] - nights[0] in (timedelta(hours=23), timedelta(hours=24), timedelta(hours=25))
    relays = views[REMINDER_RELAY].next_runs
    assert relays[1] - relays[0] == timedelta(minutes=15)
    # An operator's pause survives the next start (which brings the action up to date, not the state).
    await client.get_schedule_handle(REMINDER_RELAY).pause(note="paused by an operator")
    assert await ensure_schedules(client, ops.queue) == []
    assert {v.id: v.paused for v in await describe_schedules(client)} == {STORE_VERIFY: False, REMINDER_RELAY: True}
    await client.get_schedule_handle(REMINDER_RELAY).unpause()


async def test_the_nightly_verify_records_a_signed_anchor_checked_the_next_night(
    client: Client, ops: Ops, store: EventStore
) -> None:
    await ensure_schedules(client, ops.queue)
    await append_by_request(store, f"cls-sched-{uuid.uuid4().hex[:6]}", bordeaux_in_execution("reviewed").events[:3])
    first = VerifyResult.model_validate(await triggered(client, STORE_VERIFY))
    assert first.checked_against is None and first.events >= 3
    anchor = read_anchor(first.anchor)
    assert anchor.signature == anchor.expected_signature(_secret(ops.key_file))  # signed with the worker's key
    assert anchor.digest == first.digest and Path(first.anchor).parent == ops.anchors
    # The next night verifies against that anchor, and records another.
    second = VerifyResult.model_validate(await triggered(client, STORE_VERIFY))
    assert second.checked_against == first.anchor and second.anchor != first.anchor
    assert latest_anchor(ops.anchors) == Path(second.anchor)


async def test_a_tampered_store_fails_the_nightly_verify_and_gets_no_anchor(
    client: Client, postgres_server_url: str, tmp_path: Path
) -> None:
    url = await create_fresh_database(postgres_server_url)
    own = await EventStore.connect(url)
    try:
        await append_by_request(own, "cls-243300316", bordeaux_in_execution("reviewed").events[:4])
        ops = Ops(f"ops-{uuid.uuid4().hex[:8]}", tmp_path, own)
        async with build_worker(client, own, ops.queue, operations=ops.activities):

            async def run() -> VerifyResult:
                return await client.execute_workflow(
                    StoreVerifyWorkflow.run, id=f"verify-{uuid.uuid4().hex[:6]}", task_queue=ops.queue
                )

            assert (await run()).checked_against is None
            anchors = sorted(ops.anchors.iterdir())
            async with own.pool.acquire() as conn, conn.transaction():
                await conn.execute("SET LOCAL session_replication_role = replica")
                await conn.execute("DELETE FROM events WHERE stream_id = 'cls-243300316' AND version = 4")
                # The tail cut back consistently (the head points at version 3): only the last anchor sees it.
                await conn.execute(
                    """UPDATE streams SET version = 3, head_hash = (SELECT hash FROM events
                       WHERE stream_id = 'cls-243300316' AND version = 3) WHERE stream_id = 'cls-243300316'"""
                )
            with pytest.raises(WorkflowFailureError) as failed:
                await run()
            cause = failed.value.cause.cause  # type: ignore[union-attr]
            assert isinstance(cause, ApplicationError) and cause.type == "StoreTampered"
            assert "tail cut: the anchor saw version 4" in str(cause)
            assert sorted(ops.anchors.iterdir()) == anchors  # no anchor blesses the rewrite
    finally:
        await own.close()
        await drop_database(postgres_server_url, url)


async def test_the_relay_sends_what_is_due_once(client: Client, ops: Ops, store: EventStore) -> None:
    await ensure_schedules(client, ops.queue)
    due, later = f"cls-relay-{uuid.uuid4().hex[:6]}", f"cls-relay-{uuid.uuid4().hex[:6]}"
    today = date.today()
    await store.add_reminder(due, "signature", None, today + timedelta(days=20), today - timedelta(days=1))
    await store.add_reminder(later, "signature", None, today + timedelta(days=400), today + timedelta(days=300))
    assert await triggered(client, REMINDER_RELAY) >= 1
    lines = [json.loads(line) for line in ops.relay_file.read_text().splitlines()]
    assert [(line["contract_id"], line["deadline"]) for line in lines if line["contract_id"] in (due, later)] == [
        (due, "signature")
    ]
    sent = {r["contract_id"]: r["sent_at"] for r in await store.list_reminders() if r["contract_id"] in (due, later)}
    assert sent[due] is not None and sent[later] is None
    # Relayed once: the next run finds nothing more of it.
    await triggered(client, REMINDER_RELAY)
    again = [json.loads(line) for line in ops.relay_file.read_text().splitlines()]
    assert sum(line["contract_id"] == due for line in again) == 1


async def test_a_server_without_schedules_still_starts_the_worker(
    skipping_env: WorkflowEnvironment, capsys: pytest.CaptureFixture[str]
) -> None:
    # The time-skipping test server answers CreateSchedule "unimplemented"; `pacte worker` runs on it in the fault
    # tests: it starts all the same (this raised before), saying the schedules are not set.
    await start_schedules(skipping_env.client, Settings(task_queue=f"ops-{uuid.uuid4().hex[:8]}"))
    assert "this Temporal server has no schedules" in capsys.readouterr().err  # logs go to stderr
