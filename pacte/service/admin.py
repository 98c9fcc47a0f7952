"""Local administration: what runs against the event store itself rather than through the API (migrations, an
administrator's own verify, rebuilding the read models) and the long-running processes (the worker)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from eventstore.integrity import Anchor, VerifyReport, take_anchor, verify
from eventstore.projections import rebuild
from pacte.runtime import QuietServer, connect_temporal, on_stop_signals, open_store, worker_for
from pacte.settings import Settings

T = TypeVar("T")


async def _as_owner(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    async with open_store(settings, as_owner=True) as store, store.pool.acquire() as conn:
        return await work(conn)


async def migrate(settings: Settings) -> None:
    async with open_store(settings, as_owner=True):  # opening applies the migrations: the owner's job
        pass


async def verify_store(settings: Settings, anchor: Anchor | None = None) -> VerifyReport:
    key = settings.anchor_key()
    return await _as_owner(settings, lambda conn: verify(conn, anchor, key))


async def take_store_anchor(settings: Settings) -> Anchor:
    key = settings.anchor_key()
    return await _as_owner(settings, lambda conn: take_anchor(conn, key))


async def rebuild_projections(settings: Settings) -> int:
    return await _as_owner(settings, rebuild)


async def run_worker(settings: Settings) -> None:
    """The worker until SIGINT or SIGTERM; then its activities get ``shutdown_grace_s`` and are cancelled."""
    stop = asyncio.Event()
    remove = on_stop_signals(stop)
    try:
        async with open_store(settings) as store:
            client = await connect_temporal(settings, attempts=60)
            async with worker_for(client, store, settings):
                if settings.metrics_port is None:
                    await stop.wait()
                else:
                    await _serve_metrics(settings, stop)
    finally:
        remove()


async def _serve_metrics(settings: Settings, stop: asyncio.Event) -> None:
    import uvicorn

    from pacte.metrics import worker_app

    server = QuietServer(
        uvicorn.Config(worker_app(), host=settings.api_host, port=settings.metrics_port or 0, log_config=None)
    )
    serving = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await serving
