"""Local administration: what runs against the event store itself rather than through the API (migrations, an
administrator's own verify, rebuilding the read models) and the long-running processes (the worker)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel, computed_field
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer

from eventstore.integrity import Anchor, VerifyReport, take_anchor, verify
from eventstore.projections import rebuild
from pacte.codec import for_replay
from pacte.keyring import Keyring, KeyringError, write_private
from pacte.runtime import QuietServer, connect_temporal, on_stop_signals, open_store, worker_for
from pacte.service import credentials
from pacte.service.schedules import ensure_schedules
from pacte.settings import Settings
from workflows.campaign import CampaignWorkflow
from workflows.contract import SEARCH_ATTRIBUTES, YEAR, ContractWorkflow

T = TypeVar("T")
log = structlog.stdlib.get_logger("pacte")


async def _as_owner(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    async with open_store(settings, as_owner=True) as store, store.pool.acquire() as conn:
        return await work(conn)


async def migrate(settings: Settings) -> None:
    async with open_store(settings, as_owner=True):  # opening applies the migrations: the owner's job
        pass


async def verify_store(settings: Settings, anchor: Anchor | None = None) -> VerifyReport:
    key = settings.anchor_key_for(anchor.key_id) if anchor is not None else None
    return await _as_owner(settings, lambda conn: verify(conn, anchor, key))


async def take_store_anchor(settings: Settings) -> Anchor:
    key_id, key = settings.anchor_signing_key()
    return await _as_owner(settings, lambda conn: take_anchor(conn, key, key_id))


async def with_credentials(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Local administration of the access list and the tokens (``pacte access``, ``pacte tokens``), in PostgreSQL
    with the owner role; the files of earlier versions are imported first, as the API does at start."""
    async with open_store(settings, as_owner=True) as store:
        await credentials.import_files(store.pool, settings.access_path(), settings.tokens_path())
        return await work(store.pool)


async def rebuild_projections(settings: Settings) -> int:
    return await _as_owner(settings, rebuild)


# The contracts' search attributes and their Temporal types (see workflows/contract.py).
SEARCH_ATTRIBUTE_TYPES = {key.name: "Int" if key is YEAR else "Keyword" for key in SEARCH_ATTRIBUTES}


async def missing_search_attributes(client: Client, namespace: str) -> list[str]:
    known = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    return [name for name in SEARCH_ATTRIBUTE_TYPES if name not in known.custom_attributes]


async def register_search_attributes(settings: Settings) -> list[str]:
    """Register the contracts' search attributes on the namespace (an operator's job, once); returns those added."""
    client = await connect_temporal(settings, attempts=5)
    missing = await missing_search_attributes(client, settings.temporal_namespace)
    if missing:
        types = {"Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT}
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=settings.temporal_namespace,
                search_attributes={name: types[SEARCH_ATTRIBUTE_TYPES[name]] for name in missing},
            )
        )
    return missing


async def check_search_attributes(client: Client, settings: Settings) -> None:
    """A worker whose contracts would upsert unregistered search attributes would fail every workflow task: refuse
    to start instead, saying what to do."""
    if not settings.temporal_search_attributes:
        return
    missing = await missing_search_attributes(client, settings.temporal_namespace)
    if missing:
        raise ConnectionError(
            f"search attributes {', '.join(missing)} are not registered on namespace {settings.temporal_namespace!r}: "
            "run `pacte search-attributes` once (or set PACTE_TEMPORAL_SEARCH_ATTRIBUTES=false)"
        )


async def start_schedules(client: Client, settings: Settings) -> None:
    """The nightly verify and the reminders relay as Temporal Schedules (created once; see pacte/service/schedules.py)."""
    if not settings.schedules:
        return
    try:
        created = await ensure_schedules(client, settings.task_queue)
    except RPCError as error:
        if error.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        # The time-skipping test server (the fault tests run `pacte worker` on it) has no schedules: the worker
        # still serves the contracts; the nightly verify and the relay do not run there.
        log.warning("this Temporal server has no schedules: the nightly verify and the reminders relay are not set")
        return
    if created:
        log.info("schedules created", schedules=created)


async def run_worker(settings: Settings) -> None:
    """The worker until SIGINT or SIGTERM; then its activities get ``shutdown_grace_s`` and are cancelled."""
    stop = asyncio.Event()
    remove = on_stop_signals(stop)
    try:
        async with open_store(settings) as store:
            client = await connect_temporal(settings, attempts=60)
            await check_search_attributes(client, settings)
            await start_schedules(client, settings)
            async with worker_for(client, store, settings):
                if settings.metrics_port is None:
                    await stop.wait()
                else:
                    await _serve_metrics(settings, stop)
    finally:
        remove()


async def _serve_metrics(settings: Settings, stop: asyncio.Event) -> None:

    from pacte.http_server import server_config
    from pacte.metrics import worker_app

    server = QuietServer(server_config(worker_app(), settings, host=settings.api_host, port=settings.metrics_port or 0))
    serving = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await serving


# --- replay before deploy -------------------------------------------------------------------------------------------

REPLAYED_TYPES = "WorkflowType = 'ContractWorkflow' OR WorkflowType = 'CampaignWorkflow'"


class ReplayFailure(BaseModel):
    workflow_id: str
    run_id: str
    error: str


class ReplayReport(BaseModel):
    replayed: int
    failures: list[ReplayFailure]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return not self.failures


async def replay_check(client: Client, *, query: str | None = None, limit: int = 200) -> ReplayReport:
    """Replay a sample of the cluster's histories against this code (the build about to be deployed): the open runs
    first — those the new workers will replay — then the most recent closed ones, ``limit`` in all. Run with the
    client's own data converter, so a payload codec applies as it does in the workers. A failure names the run."""
    selection = f"({query or REPLAYED_TYPES})"
    replayer = Replayer(
        workflows=[ContractWorkflow, CampaignWorkflow], data_converter=for_replay(client.data_converter)
    )
    failures: list[ReplayFailure] = []
    replayed = 0

    async def histories() -> AsyncIterator[WorkflowHistory]:
        taken = 0
        for status in ("ExecutionStatus = 'Running'", "ExecutionStatus != 'Running'"):
            if taken >= limit:
                return
            listed = client.list_workflows(
                f"{selection} AND {status}", limit=limit - taken, rpc_timeout=timedelta(seconds=30)
            )
            async for history in listed.map_histories(rpc_timeout=timedelta(seconds=30)):
                taken += 1
                yield history

    async with replayer.workflow_replay_iterator(histories()) as results:
        async for result in results:
            replayed += 1
            if result.replay_failure is not None:
                failures.append(
                    ReplayFailure(
                        workflow_id=result.history.workflow_id,
                        run_id=result.history.run_id,
                        error=str(result.replay_failure)[:2000],
                    )
                )
    return ReplayReport(replayed=replayed, failures=failures)


def keyring_rotate(settings: Settings, key_id: str | None = None) -> tuple[str, list[str]]:
    """Add a key to the keyring file and make it the one that seals and signs from now on; the old keys stay to open
    what they sealed. Every worker and API process reads the keyring when it starts: restart them all (the workers
    first — a worker with the old keyring cannot open what the new one seals). Returns (active, every key)."""
    keyring = _keyring_file(settings).rotated(key_id)
    write_private(settings.keyring_path(), keyring)
    return keyring.active, sorted(keyring.keys)


def keyring_remove(settings: Settings, key_id: str) -> list[str]:
    """Remove an old key, once nothing it sealed is read any more (histories past Temporal's retention, anchors
    taken again): its payloads and its anchors then open nowhere."""
    keyring = _keyring_file(settings).without(key_id)
    write_private(settings.keyring_path(), keyring)
    return sorted(keyring.keys)


def keyring_show(settings: Settings) -> tuple[str, list[str]]:
    keyring = settings.load_keyring()
    return keyring.active, sorted(keyring.keys)


def _keyring_file(settings: Settings) -> Keyring:
    if settings.keyring is not None:
        raise KeyringError("the keyring comes from PACTE_KEYRING: change it where it is kept (the secret store)")
    if not settings.keyring_path().exists():
        raise KeyringError(f"no keyring at {settings.keyring_path()}: the first start makes one")
    return settings.load_keyring()
