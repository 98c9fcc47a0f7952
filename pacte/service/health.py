"""Is the service alive, and is it ready to work: Temporal reachable, the event store reachable with its migrations
applied and unchanged, and a worker polling the task queue. Each check says what is wrong when it is."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from eventstore.migrate import check_current
from pacte.service.facade import Pacte

CHECK_TIMEOUT_S = 3.0
POLLED_WITHIN = timedelta(minutes=2)  # a worker polls continuously; its last poll older than this: it is gone


class Check(BaseModel):
    ok: bool
    detail: str


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, Check]


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
    answer = await pacte.client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=pacte.client.namespace,
            task_queue=TaskQueue(name=pacte.settings.task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    now = datetime.now(UTC)
    live = [p for p in answer.pollers if now - p.last_access_time.ToDatetime(tzinfo=UTC) < POLLED_WITHIN]
    if not live:
        return Check(ok=False, detail=f"no worker polls task queue {pacte.settings.task_queue!r}")
    return Check(ok=True, detail=f"{len(live)} worker(s) polling {pacte.settings.task_queue!r}")


async def readiness(pacte: Pacte) -> Readiness:
    """Every check runs, each bounded in time, so one part down never hides another."""
    probes = {"temporal": _temporal, "event_store": _store, "migrations": _migrations, "worker": _worker}

    async def run(name: str) -> tuple[str, Check]:
        try:
            return name, await asyncio.wait_for(probes[name](pacte), CHECK_TIMEOUT_S)
        except TimeoutError:
            return name, Check(ok=False, detail=f"no answer within {CHECK_TIMEOUT_S:.0f} s")
        except Exception as exc:  # whatever it is, readiness reports it rather than failing itself
            return name, Check(ok=False, detail=f"{type(exc).__name__}: {str(exc)[:300]}")

    checks = dict(await asyncio.gather(*(run(name) for name in probes)))
    return Readiness(ready=all(c.ok for c in checks.values()), checks=checks)
