"""The whole service for the web interface's tests: its own PostgreSQL database and its own Temporal dev server (so
its territories never meet the other tests'), a worker, and the composed application (API + web) with the demo
sign-in. The browser tests serve it over HTTP with uvicorn; the others call it in process."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser as Chromium
from playwright.async_api import async_playwright
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.testing import WorkflowEnvironment

from eventstore.store import EventStore
from pacte.app import create_app
from pacte.embedded import SERVER_STARTUP, binary_path
from pacte.metrics import sdk_metrics_address
from pacte.runtime import build_worker
from pacte.service.facade import Pacte
from pacte.settings import Settings
from pacte.web.signin import demo_grants
from tests.conftest import create_fresh_database, drop_database
from tests.sealing import CONVERTER, TEST_KEYRING
from workflows.contract import SEARCH_ATTRIBUTES

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Stack:
    app: FastAPI
    pacte: Pacte
    settings: Settings


@asynccontextmanager
async def fresh_stack(postgres_server_url: str, data: Path, runtime: Runtime | None = None) -> AsyncIterator[Stack]:
    """A whole service of its own: a fresh database, a Temporal dev server, a worker and the composed application,
    with the demo persons on its own access list. Nothing it holds is seen by another stack."""
    url = await create_fresh_database(postgres_server_url)
    store = await EventStore.connect(url)
    env = await WorkflowEnvironment.start_local(
        **({"runtime": runtime} if runtime is not None else {}),
        data_converter=CONVERTER,
        dev_server_existing_path=binary_path("temporal"),
        dev_server_startup_timeout=SERVER_STARTUP,
        search_attributes=SEARCH_ATTRIBUTES,  # what a cluster registers with `pacte search-attributes`
        dev_server_extra_args=["--log-level", "error"],
    )
    settings = Settings(
        task_queue=f"pacte-web-{uuid.uuid4().hex[:8]}",
        data_dir=data,
        demo_sign_in=True,
        keyring=TEST_KEYRING.to_json(),  # type: ignore[arg-type]  # the one its Temporal client seals with
        temporal_ui_origin="http://127.0.0.1:8233",
    )
    demo_grants(settings)
    pacte = Pacte(client=env.client, store=store, settings=settings)
    app = create_app(settings, service=pacte)
    try:
        async with build_worker(env.client, store, settings.task_queue), app.router.lifespan_context(app):
            yield Stack(app=app, pacte=pacte, settings=settings)
    finally:
        await env.shutdown()
        await store.close()
        await drop_database(postgres_server_url, url)


@pytest.fixture(scope="session")
async def web_stack(postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    # The SDK's runtime metrics exported as in production, so /metrics serves them beside ours.
    runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=sdk_metrics_address())))
    async with fresh_stack(postgres_server_url, tmp_path_factory.mktemp("web-data"), runtime) as stack:
        yield stack


class Browser:
    """An in-process client that signs in like a person: it keeps the session cookie and sends the page's token."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.csrf = ""

    async def get(self, path: str, **kwargs: object) -> httpx.Response:
        page = await self.http.get(path, **kwargs)  # type: ignore[arg-type]
        found = CSRF.search(page.text)
        if found:
            self.csrf = found.group(1)
        return page

    async def post(self, path: str, data: dict[str, str], csrf: bool = True) -> httpx.Response:
        return await self.http.post(path, data={**data, **({"csrf_token": self.csrf} if csrf else {})})

    async def sign_in(self, identity: str) -> None:
        await self.get("/ui/connexion")
        answer = await self.post("/ui/connexion", {"identity": identity, "next": "/ui/contrats"})
        assert answer.status_code == 303, answer.text


@pytest.fixture
async def browser(web_stack: Stack) -> AsyncIterator[Browser]:
    transport = httpx.ASGITransport(app=web_stack.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pacte") as http:
        yield Browser(http)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serving(app: FastAPI, port: int, lifespan: str = "off") -> AsyncIterator[str]:
    """An application over real HTTP on ``port``, for Chromium, until the block ends."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan=lifespan))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture(scope="session")
async def served(web_stack: Stack) -> AsyncIterator[str]:
    """The composed application over real HTTP (its lifespan is the stack's)."""
    async with serving(web_stack.app, free_port()) as base:
        yield base


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


CHROMIUM = os.environ.get("PACTE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Chromium]:
    assert shutil.which(CHROMIUM), f"no Chromium at {CHROMIUM}: `make test` installs Debian's package chromium"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        await browser.close()
