"""The baselines of bench.lifecycle: workflows that do the same number of activities and timers as a contract's, and
no business.

- ``BareWorkflow``: unsandboxed, each activity empty — the floor of Temporal itself (the first baseline).
- ``FairBareWorkflow``: what the contract's workflow pays besides its business: the same sandbox (the default, as
  ours), and each activity the same kind of append to PostgreSQL (one event, one ``pacte_append``, at a version the
  workflow computes). Its activities are in ``bench.bare_activities`` (the sandbox must not import asyncpg).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import activity, workflow


@activity.defn(name="bench_noop")
async def noop() -> None:
    return None


@workflow.defn(sandboxed=False)
class BareWorkflow:
    """Sleeps to each given business moment and runs an empty activity there; each update runs one empty activity."""

    def __init__(self) -> None:
        self._done = False
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, moments: list[datetime], offset_s: float) -> int:
        offset = timedelta(seconds=offset_s)
        for moment in moments:
            delay = moment - (workflow.now() + offset)
            if delay > timedelta(0):
                await workflow.sleep(delay)
            async with self._lock:
                await workflow.execute_activity("bench_noop", start_to_close_timeout=timedelta(seconds=30))
        await workflow.wait_condition(lambda: self._done)
        return len(moments)

    @workflow.update
    async def step(self) -> None:
        async with self._lock:
            await workflow.execute_activity("bench_noop", start_to_close_timeout=timedelta(seconds=30))

    @workflow.signal
    def finish(self) -> None:
        self._done = True


@workflow.defn  # sandboxed, like ContractWorkflow
class FairBareWorkflow:
    """As BareWorkflow, but each activity appends one event to the workflow's own stream, at the next version."""

    def __init__(self) -> None:
        self._done = False
        self._lock = asyncio.Lock()
        self._version = 0

    async def _append(self) -> None:
        async with self._lock:
            info = workflow.info()
            await workflow.execute_activity(
                "bench_append",
                args=[info.workflow_id, self._version, workflow.now()],
                start_to_close_timeout=timedelta(seconds=30),
            )
            self._version += 1

    @workflow.run
    async def run(self, moments: list[datetime], offset_s: float) -> int:
        offset = timedelta(seconds=offset_s)
        for moment in moments:
            delay = moment - (workflow.now() + offset)
            if delay > timedelta(0):
                await workflow.sleep(delay)
            await self._append()
        await workflow.wait_condition(lambda: self._done)
        return len(moments)

    @workflow.update
    async def step(self) -> None:
        await self._append()

    @workflow.signal
    def finish(self) -> None:
        self._done = True
