"""Workflow metrics, recorded through the workflow's replay-safe meter (``workflow.metric_meter()``: nothing is
recorded while a history replays) and exported by the Temporal SDK's Prometheus exporter, which /metrics serves
beside Pacte's own counters (pacte/metrics.py):

- ``pacte_workflow_update_latency{update, command, outcome}``: an update's latency, by command type and outcome;
- ``pacte_workflow_lock_wait{where}``: how long a handler waited for the contract's lock;
- ``pacte_workflow_append_failures{kind}``: appends the workflow saw fail after their bounded retries (timeout,
  conflict, refused, other);
- ``pacte_workflow_nondeterminism``: a decision that differs from the stored record (a rule changed without
  ``workflow.patched``); the SDK's own non-determinism errors are counted by the SDK,
  ``temporal_workflow_task_execution_failed{failure_reason="NonDeterminismError"}``.

Durations are in milliseconds, as the SDK's own (its default buckets, 50 ms to 10 s). Times are the workflow's clock (``workflow.time()``: when its tasks started), so the same on every replay: an update
answered within one task counts 0; one that waits for an append counts the append's time.

The update, append and non-determinism metrics come from ``WorkflowMetricsInterceptor`` (every worker has it:
pacte/runtime.py); the lock wait is recorded by the contract workflow itself, where its lock is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import MetricHistogramTimedelta
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    StartActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

APPEND_ACTIVITY = "append_events"  # activities.contracts.APPEND_EVENTS (not imported: this module stays sandbox-light)
STORE_OUTCOMES = {"store_unavailable", "outcome_unknown", "store_refused", "store_conflict"}


def _command_of(input: HandleUpdateInput) -> str:
    if input.update == "import_history":
        return "Import"
    request = input.args[0] if input.args else None
    command = getattr(request, "command", None)
    return str(getattr(command, "type", "unknown"))


def _append_failure_kind(error: BaseException) -> str:
    cause = error.cause if isinstance(error, ActivityError) else None
    if isinstance(cause, TimeoutError):
        return "timeout"
    if isinstance(cause, ApplicationError) and cause.type == "ConcurrencyError":
        return "conflict"
    if isinstance(cause, ApplicationError) and cause.type == "StoreRefused":
        return "refused"
    return "other"


class _Inbound(WorkflowInboundInterceptor):
    """One per workflow run: its metrics are made once, at its first update."""

    _latency: MetricHistogramTimedelta | None = None

    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_Outbound(outbound))

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        if self._latency is None:
            self._latency = workflow.metric_meter().create_histogram_timedelta(
                "pacte_workflow_update_latency", "Update latency on the workflow's clock, by command type", "ms"
            )
        started = workflow.time()
        outcome = "ok"
        try:
            return await self.next.handle_update_handler(input)
        except ApplicationError as error:
            outcome = error.type if error.type in STORE_OUTCOMES else "refused"
            raise
        except BaseException as error:
            outcome = "cancelled" if isinstance(error, asyncio.CancelledError) else "task_failure"
            if "non-determinism" in str(error):
                workflow.metric_meter().create_counter(
                    "pacte_workflow_nondeterminism", "Decisions that differ from the events stored"
                ).add(1)
            raise
        finally:
            self._latency.record(
                timedelta(seconds=workflow.time() - started),
                {"update": input.update, "command": _command_of(input), "outcome": outcome},
            )


class _Outbound(WorkflowOutboundInterceptor):
    def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle[Any]:
        handle = self.next.start_activity(input)
        if input.activity == APPEND_ACTIVITY:

            def failed(done: asyncio.Future[Any]) -> None:
                if done.cancelled() or done.exception() is None:
                    return
                error = done.exception()
                assert error is not None
                workflow.metric_meter().create_counter(
                    "pacte_workflow_append_failures", "Appends that failed after their bounded retries, by kind"
                ).add(1, {"kind": _append_failure_kind(error)})

            handle.add_done_callback(failed)
        return handle


class WorkflowMetricsInterceptor(Interceptor):
    """The worker interceptor that records the update, append and non-determinism metrics above."""

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _Inbound


@asynccontextmanager
async def measured(lock: asyncio.Lock, where: str) -> AsyncIterator[None]:
    """``async with lock``, its wait recorded as ``pacte_workflow_lock_wait{where}``."""
    started = workflow.time()
    async with lock:
        workflow.metric_meter().create_histogram_timedelta(
            "pacte_workflow_lock_wait", "Time a handler waited for the contract's lock", "ms"
        ).record(timedelta(seconds=workflow.time() - started), {"where": where})
        yield
