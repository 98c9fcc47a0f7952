"""The baselines of bench.lifecycle: workflows that do the same number of activities and timers, doing nothing."""

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
