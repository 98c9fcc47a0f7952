"""Connections to the real parts, built from Settings: the event store, the Temporal client, the worker."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import structlog
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.worker import Worker

from activities.eventstore_activities import EventStoreActivities
from eventstore.migrate import check_current, migrate
from eventstore.store import EventStore
from pacte.embedded import ensure_database, start_embedded_postgres
from pacte.settings import Settings
from workflows.campaign import CampaignWorkflow
from workflows.contract import ContractWorkflow

log = structlog.stdlib.get_logger("pacte")


def configure_temporal_runtime() -> None:
    """Send the Temporal core's own log lines through our logging (by default it prints them on stdout)."""
    runtime = Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            )
        )
    )
    Runtime.set_default(runtime, error_if_already_set=False)


# Held for the life of the process: the embedded server stops when its last user exits.
_embedded_servers: list[object] = []


async def resolve_database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    server = start_embedded_postgres(settings.data_dir)
    _embedded_servers.append(server)
    return await ensure_database(server.get_uri())  # type: ignore[attr-defined]


RUNTIME_ROLE = "pacte_runtime"  # created by migration 004


def runtime_url_for(owner_url: str) -> str:
    """The same server and database, as the runtime role (trust or peer authentication: the embedded server)."""
    parts = urlsplit(owner_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{RUNTIME_ROLE}@{host}"))


def runtime_url(settings: Settings, owner_url: str) -> str | None:
    """Where the API and the worker connect: PACTE_RUNTIME_DATABASE_URL; the runtime role of the embedded server;
    or None — an external PostgreSQL given without a runtime URL is used as given (the owner role: a warning)."""
    if settings.runtime_database_url:
        return settings.runtime_database_url
    if settings.database_url is None:
        return runtime_url_for(owner_url)
    return None


@asynccontextmanager
async def open_store(
    settings: Settings, *, apply_migrations: bool = True, as_owner: bool = False
) -> AsyncIterator[EventStore]:
    """The event store as the API and the worker use it: migrations applied with the owner role, then a pool of the
    runtime role (it reads, appends through pacte_append, writes the outbox; it cannot rewrite history). Local
    administration (``as_owner``: projections rebuild) keeps the owner role."""
    url = await resolve_database_url(settings)
    runtime = None if as_owner else runtime_url(settings, url)
    if runtime is None:
        if not as_owner:
            log.warning("event store opened with the owner role; set PACTE_RUNTIME_DATABASE_URL for least privilege")
        store = await EventStore.connect(url, apply_migrations=apply_migrations)
    else:
        if apply_migrations:
            owner = await asyncpg.connect(url)
            try:
                await migrate(owner)
            finally:
                await owner.close()
        store = await EventStore.connect(runtime, apply_migrations=False)
        async with store.pool.acquire() as conn:
            await check_current(conn)
    try:
        yield store
    finally:
        await store.close()


async def connect_temporal(settings: Settings, *, attempts: int = 1) -> Client:
    last: Exception | None = None
    for attempt in range(attempts):
        try:
            return await Client.connect(
                settings.temporal_target(),
                namespace=settings.temporal_namespace,
                data_converter=pydantic_data_converter,
            )
        except RuntimeError as exc:  # the core SDK raises RuntimeError when it cannot connect
            last = exc
            if attempt + 1 < attempts:
                await asyncio.sleep(0.5)
    raise ConnectionError(f"cannot reach Temporal at {settings.temporal_target()}: {last}") from last


def build_worker(client: Client, store: EventStore, task_queue: str, *, max_cached_workflows: int = 1000) -> Worker:
    activities = EventStoreActivities(store)
    return Worker(
        client,
        task_queue=task_queue,
        max_cached_workflows=max_cached_workflows,
        workflows=[ContractWorkflow, CampaignWorkflow],
        activities=[activities.append_events, activities.record_reminder, activities.contract_statuses],
    )
