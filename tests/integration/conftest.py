"""Fixtures for the API tests: a tokens file for a module's cast of actors, and the app served in-process (ASGI) on
the session's real Temporal server and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from domain.actors import Actor
from eventstore.store import EventStore
from pacte import tokens
from pacte.api import create_app
from pacte.service.facade import Pacte
from pacte.settings import Settings


@pytest.fixture(scope="module")
def tokens_file(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str]]:
    """One token per entry of the test module's ACTORS, plus an expired one for the first actor."""
    actors: dict[str, Actor] = request.module.ACTORS
    path = tmp_path_factory.mktemp("tokens") / "tokens.json"
    issued = {name: tokens.add(path, actor)[0] for name, actor in actors.items()}
    first = next(iter(actors.values()))
    issued["expired"] = tokens.add(path, first, days=1, now=datetime.now(UTC) - timedelta(days=2))[0]
    return path, issued


@pytest.fixture(scope="module")
async def api(
    tokens_file: tuple[Path, dict[str, str]], client: Client, store: EventStore, task_queue: str
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    path, issued = tokens_file
    settings = Settings(tokens_file=path, task_queue=task_queue)
    app = create_app(settings, service=Pacte(client=client, store=store, settings=settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://pacte") as http:
            yield http, issued
