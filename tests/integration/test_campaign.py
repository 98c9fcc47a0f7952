"""CampaignWorkflow: proposes contracts to many territories as child workflows; re-running it is harmless."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.actors import Actor, Role
from eventstore.store import EventStore
from pacte.embedded import SERVER_STARTUP, binary_path
from pacte.runtime import build_worker
from tests.sealing import CONVERTER
from workflows.campaign import CampaignWorkflow
from workflows.models import CampaignInput, CampaignProgress

pytestmark = pytest.mark.integration


def campaign(campaign_id: str, territories: tuple[str, ...]) -> CampaignInput:
    return CampaignInput(
        campaign_id=campaign_id,
        territories=territories,
        annual_ceiling=80_000_000,
        ceilings={"D08": 60_000_000},
        actor=Actor(role=Role.PREFET, identity="prefet-grand-est", scope=("08", "10", "51")),
        request_prefix=f"campaign-{campaign_id}",
        at=datetime(2023, 12, 1, tzinfo=UTC),
    )


@pytest.fixture
async def own_env(store: EventStore) -> AsyncIterator[tuple[WorkflowEnvironment, str]]:
    """A server of its own: campaigns poll for years, which must not hold the shared server's clock."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=CONVERTER,
        test_server_existing_path=binary_path("temporal-test-server"),
        test_server_startup_timeout=SERVER_STARTUP,
    )
    async with build_worker(env.client, store, "campaigns"):
        yield env, "campaigns"
    await env.shutdown()


async def run_campaign(
    client: Client, queue: str, request: CampaignInput
) -> tuple[WorkflowHandle[Any, Any], CampaignProgress]:
    """Start a campaign and return its handle with its progress: it ends once every territory has its answer."""
    handle = await client.start_workflow(
        CampaignWorkflow.run, request, id=f"campaign-{uuid.uuid4().hex[:6]}", task_queue=queue
    )
    progress = await asyncio.wait_for(handle.result(), timeout=60)
    assert progress.complete and await handle.query(CampaignWorkflow.progress) == progress
    return handle, progress


async def test_a_campaign_proposes_validates_and_can_be_run_again(
    own_env: tuple[WorkflowEnvironment, str], store: EventStore
) -> None:
    skipping_env, skipping_queue = own_env
    territories = ("D08", "D10", "D51", "D13", "999999999", "nonsense!")  # D13 is outside the préfet's scope
    client = skipping_env.client
    _, progress = await run_campaign(client, skipping_queue, campaign("c1", territories))
    assert sorted(progress.started) == ["cls-d08", "cls-d10", "cls-d51"]
    assert set(progress.refused) == {"D13", "999999999", "nonsense!"}
    assert "does not cover" in progress.refused["D13"] and "not a known territory" in progress.refused["999999999"]
    assert progress.proposed == 3 and progress.closed == 0
    ardennes = await store.read_stream("cls-d08")
    assert ardennes[0].event_type == "ContractProposed" and ardennes[0].payload["annual_ceiling"] == 60_000_000

    _, progress = await run_campaign(client, skipping_queue, campaign("c2", territories[:3]))
    assert progress.started == [] and sorted(progress.existing) == ["cls-d08", "cls-d10", "cls-d51"]
    for cid in ("cls-d08", "cls-d10", "cls-d51"):
        assert [e.event_type for e in await store.read_stream(cid)].count("ContractProposed") == 1


async def test_a_campaign_whose_children_are_refused_when_they_start_still_ends(
    own_env: tuple[WorkflowEnvironment, str], store: EventStore
) -> None:
    """The campaign's own check passes, the child's does not (dated after the child's clock: in the future): the
    child ends without a contract, and the campaign ends with it among the refused — it used to wait forever."""
    env, queue = own_env
    future = (await env.get_current_time()) + timedelta(days=30)
    # Guadeloupe and Martinique: no other test proposes them (the session's store is shared).
    request = campaign("c3", ("D971", "D972")).model_copy(
        update={"at": future, "actor": Actor(role=Role.PREFET, identity="prefet-antilles", scope=("971", "972"))}
    )
    _, progress = await run_campaign(env.client, queue, request)
    assert progress.started == [] and set(progress.refused) == {"D971", "D972"}
    assert await store.stream_version("cls-d971") == 0
