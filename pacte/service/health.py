"""Is the service alive, and is it ready to work: Temporal reachable, the event store reachable with its migrations
applied and unchanged, and a worker polling the task queue. Each check says what is wrong when it is."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import structlog
from pydantic import BaseModel
from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import PollerInfo, TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, ListTaskQueuePartitionsRequest
from temporalio.service import RPCError

from eventstore.migrate import check_current
from pacte.service.answers import Problem
from pacte.service.facade import Pacte

log = structlog.get_logger(__name__)

CHECK_TIMEOUT_S = 3.0
POLLED_WITHIN = timedelta(minutes=2)  # a worker polls continuously; its last poll older than this: it is gone


class Check(BaseModel):
    ok: bool
    detail: str


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, Check]


class NotReady(Problem, Readiness):
    """A 503 from /ready is a problem like every other refusal (``code`` ``not_ready``, ``message`` naming each
    failing check), and keeps the checks for whoever diagnoses it (``pacte status``, an orchestrator's log)."""

    @classmethod
    def of(cls, found: Readiness) -> NotReady:
        failing = {name: check for name, check in found.checks.items() if not check.ok}
        message = "not ready: " + "; ".join(f"{name}: {check.detail}" for name, check in failing.items())
        return cls(code="not_ready", message=message, field=None, ready=False, checks=found.checks)


async def _temporal(pacte: Pacte) -> Check:
    healthy = await pacte.client.service_client.check_health()
    return Check(ok=healthy, detail=f"{pacte.settings.temporal_target()} serving" if healthy else "not serving")


async def _store(pacte: Pacte) -> Check:
    async with pacte.store.pool.acquire() as conn:
        await conn.fetchval("SELECT 1")
    return Check(ok=True, detail="reachable")


async def _migrations(pacte: Pacte) -> Check:
    async with pacte.store.pool.acquire() as conn:
        await check_current(conn)
    return Check(ok=True, detail="every migration applied, none changed")


async def _worker(pacte: Pacte) -> Check:
    """A worker polls the task queue: its pollers, seen on any of the queue's partitions within POLLED_WITHIN.

    Temporal splits a task queue into partitions (four by default) and a worker's long poll lands on any of them;
    describing the queue's name alone shows the root partition's pollers only. Right after a worker starts, or
    whenever its polls sit on another partition, that said "no worker" of a worker at work (the suite's /ready
    answered 503 beside a running worker). So every partition is asked, and their pollers put together."""
    queue = pacte.settings.task_queue
    service = pacte.client.workflow_service
    try:
        listed = await service.list_task_queue_partitions(
            ListTaskQueuePartitionsRequest(namespace=pacte.client.namespace, task_queue=TaskQueue(name=queue))
        )
        partitions = [p.key for p in listed.workflow_task_queue_partitions] or [queue]
    except RPCError:  # a server that does not list partitions: the root's view is all there is
        partitions = [queue]

    async def pollers(partition: str) -> list[PollerInfo]:
        answer = await service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=pacte.client.namespace,
                task_queue=TaskQueue(name=partition, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        return list(answer.pollers)

    now = datetime.now(UTC)
    seen = [p for found in await asyncio.gather(*(pollers(k) for k in partitions)) for p in found]
    live = {p.identity for p in seen if now - p.last_access_time.ToDatetime(tzinfo=UTC) < POLLED_WITHIN}
    if not live:
        return Check(ok=False, detail=f"no worker polls task queue {queue!r}")
    return Check(ok=True, detail=f"{len(live)} worker(s) polling {queue!r}")


async def readiness(pacte: Pacte) -> Readiness:
    """Every check runs, each bounded in time, so one part down never hides another."""
    probes = {"temporal": _temporal, "event_store": _store, "migrations": _migrations, "worker": _worker}

    async def run(name: str) -> tuple[str, Check]:
        began = time.monotonic()
        try:
            found = await asyncio.wait_for(probes[name](pacte), CHECK_TIMEOUT_S)
        except TimeoutError:
            found = Check(ok=False, detail=f"no answer within {CHECK_TIMEOUT_S:.0f} s")
        except Exception as exc:  # whatever it is, readiness reports it rather than failing itself
            found = Check(ok=False, detail=f"{type(exc).__name__}: {str(exc)[:300]}")
        if not found.ok:  # an operator reading the logs sees which check failed, and how long it took to
            log.warning("readiness_check_failed", check=name, detail=found.detail, seconds=time.monotonic() - began)
        return name, found

    checks = dict(await asyncio.gather(*(run(name) for name in probes)))
    return Readiness(ready=all(c.ok for c in checks.values()), checks=checks)


async def ready_within(pacte: Pacte, seconds: float, every_s: float = 0.25) -> Readiness:
    """Readiness once every check passes, or what is still wrong after ``seconds`` (a stack that just started)."""
    deadline = time.monotonic() + seconds
    while True:
        found = await readiness(pacte)
        if found.ready or time.monotonic() > deadline:
            return found
        await asyncio.sleep(every_s)
