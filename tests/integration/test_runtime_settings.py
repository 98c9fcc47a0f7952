"""Settings for a real deployment, exercised against the real servers: a worker with one slot of each kind, a pool
without prepared-statement cache (PgBouncer's transaction pooling), a statement timeout; and TLS to Temporal."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
import pytest
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from domain.actors import Actor, Role
from eventstore.store import EventStore
from pacte.embedded import SERVER_STARTUP, binary_path
from pacte.runtime import temporal_tls, worker_for
from pacte.service.admin import SEARCH_ATTRIBUTE_TYPES, check_search_attributes, register_search_attributes
from pacte.service.catalogue import ProposeBody
from pacte.service.facade import Pacte
from pacte.settings import Settings
from tests.conftest import create_fresh_database, drop_database
from tests.sealing import CONVERTER
from workflows.contract import KIND, REGION, STATUS, TERRITORY

pytestmark = pytest.mark.integration


async def test_a_worker_with_one_slot_of_each_kind_runs_contracts(
    temporal_env: WorkflowEnvironment, store: EventStore
) -> None:
    settings = Settings(
        task_queue=f"one-slot-{uuid.uuid4().hex[:8]}",
        worker_max_concurrent_workflow_tasks=1,
        worker_max_concurrent_activities=1,
        worker_max_cached_workflows=0,
    )
    worker = worker_for(temporal_env.client, store, settings)
    assert worker.config()["max_concurrent_workflow_tasks"] == 1  # type: ignore[typeddict-item]
    async with worker:
        pacte = Pacte(client=temporal_env.client, store=store, settings=settings)
        prefet = Actor(role=Role.PREFET, identity="prefecture-aveyron", scope=("11", "12"))
        for territory in ("D11", "D12"):
            answer = await pacte.propose(prefet, ProposeBody(territory=territory, annual_ceiling=10_000_000))
            assert answer.state.status.value == "PROPOSED"
        # The contract shows in Temporal's Web UI with its business columns (search attributes).
        described = await temporal_env.client.get_workflow_handle("cls-d12").describe()
        attributes = described.typed_search_attributes
        assert attributes.get(STATUS) == "PROPOSED" and attributes.get(TERRITORY) == "D12"
        assert attributes.get(KIND) == "departement" and attributes.get(REGION) == "76"


async def test_a_worker_refuses_to_start_where_the_search_attributes_are_not_registered(store: EventStore) -> None:
    bare = await WorkflowEnvironment.start_local(
        data_converter=CONVERTER,
        dev_server_existing_path=binary_path("temporal"),
        dev_server_startup_timeout=SERVER_STARTUP,
        dev_server_extra_args=["--log-level", "error"],
    )
    try:
        settings = Settings(temporal_address=bare.client.service_client.config.target_host)
        with pytest.raises(ConnectionError, match="pacte search-attributes"):
            await check_search_attributes(bare.client, settings)
        assert sorted(await register_search_attributes(settings)) == sorted(SEARCH_ATTRIBUTE_TYPES)
        await check_search_attributes(bare.client, settings)  # registered now: the worker may start
        assert await register_search_attributes(settings) == []  # once is enough
    finally:
        await bare.shutdown()


async def test_a_pool_without_statement_cache_and_with_a_statement_timeout(postgres_server_url: str) -> None:
    url = await create_fresh_database(postgres_server_url)
    try:
        # What PgBouncer's transaction pooling needs: no prepared statement kept on a server connection.
        opened = await EventStore.connect(url, statement_cache_size=0, statement_timeout_ms=2000, command_timeout=60)
        try:
            async with opened.pool.acquire() as conn:
                assert await conn.fetchval("SHOW statement_timeout") == "2s"
                with pytest.raises(asyncpg.QueryCanceledError):
                    await conn.execute(
                        "SELECT pg_sleep(30)"
                    )  # a 2 s timeout: no trivial query here nears it, loaded or not
                await conn.fetchval("SELECT version FROM streams WHERE stream_id = $1", "x")
                # Nothing prepared stays on the server connection (asyncpg's cache would keep __asyncpg_stmt_N__).
                assert await conn.fetchval("SELECT count(*) FROM pg_prepared_statements") == 0
            assert await opened.stream_version("nothing-here") == 0
            assert await opened.list_streams() == []
        finally:
            await opened.close()
    finally:
        await drop_database(postgres_server_url, url)


def test_tls_to_temporal_from_settings(tmp_path: Path) -> None:
    assert temporal_tls(Settings()) is False
    assert temporal_tls(Settings(temporal_api_key="key")) is True  # an API key goes over TLS
    ca, cert, key = (tmp_path / name for name in ("ca.pem", "cert.pem", "key.pem"))
    for path in (ca, cert, key):
        path.write_bytes(f"-----BEGIN {path.stem}-----".encode())
    tls = temporal_tls(
        Settings(
            temporal_tls_ca_file=ca,
            temporal_tls_cert_file=cert,
            temporal_tls_key_file=key,
            temporal_tls_server_name="temporal.interieur.gouv.fr",
        )
    )
    assert isinstance(tls, TLSConfig)
    assert tls.server_root_ca_cert == ca.read_bytes() and tls.client_private_key == key.read_bytes()
    assert tls.domain == "temporal.interieur.gouv.fr"
    with pytest.raises(ValueError, match="give both"):
        temporal_tls(Settings(temporal_tls_cert_file=cert))
