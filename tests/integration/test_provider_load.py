"""Strangers cannot make Pacte hammer the identity provider (issue 25, item 4): made-up bearers cost the provider a
bounded number of calls on one client's connections; the same refusal is remembered; the cache stays bounded."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from pacte.api.middleware import Authenticate
from pacte.http_server import server_config
from pacte.runtime import QuietServer
from pacte.service.identity import AccessTokens
from pacte.settings import Settings

pytestmark = pytest.mark.integration


class Provider:
    """A provider that knows no token: it counts what it is asked and on how many connections."""

    def __init__(self) -> None:
        self.userinfo_calls = 0
        self.connections: set[tuple[str, int]] = set()
        self.base = ""

    def app(self) -> Starlette:
        async def discovery(request: Request) -> JSONResponse:
            self.connections.add(request.client)  # type: ignore[arg-type]
            return JSONResponse(
                {"userinfo_endpoint": f"{self.base}/userinfo", "jwks_uri": f"{self.base}/jwks", "issuer": self.base}
            )

        async def jwks(request: Request) -> JSONResponse:
            self.connections.add(request.client)  # type: ignore[arg-type]
            return JSONResponse({"keys": []})

        async def userinfo(request: Request) -> PlainTextResponse:
            self.connections.add(request.client)  # type: ignore[arg-type]
            self.userinfo_calls += 1
            return PlainTextResponse("invalid_token", 401)

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", discovery),
                Route("/jwks", jwks),
                Route("/userinfo", userinfo),
            ]
        )


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    found = Provider()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    found.base = f"http://127.0.0.1:{port}"
    server = QuietServer(server_config(found.app(), Settings(), host="127.0.0.1", port=port, lifespan="off"))
    serving = asyncio.create_task(server.serve())
    async with asyncio.timeout(60):
        while not server.started:  # noqa: ASYNC110 (uvicorn exposes a flag only)
            await asyncio.sleep(0.05)
    yield found
    server.should_exit = True
    await serving


def guarded(provider: Provider, tmp_path: Any) -> Any:
    async def ok(_: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    settings = Settings(oidc_issuer=provider.base, oidc_client_id="pacte", data_dir=tmp_path)
    return Authenticate(
        Starlette(routes=[Route("/contracts", ok)]),
        access_tokens=AccessTokens(settings),
    )


async def test_made_up_bearers_cost_the_provider_a_bounded_number_of_calls(provider: Provider, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = guarded(provider, tmp_path)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://pacte") as stranger:
        answers = await asyncio.gather(
            *(stranger.get("/contracts", headers={"Authorization": f"Bearer made-up-{i}"}) for i in range(400))
        )
    assert {a.status_code for a in answers} <= {401, 429}
    assert sum(a.status_code == 429 for a in answers) >= 350, "no limit on one caller's unknown bearers"
    assert provider.userinfo_calls <= 25, provider.userinfo_calls
    assert len(provider.connections) <= AccessTokens.MAX_LOOKUPS, len(provider.connections)  # one client's pool
    # Another caller is not starved by the first; the same made-up bearer again is remembered, not asked again.
    transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://pacte") as other:
        before = provider.userinfo_calls
        for _ in range(30):
            answer = await other.get("/contracts", headers={"Authorization": "Bearer the-same-made-up-one"})
            assert answer.status_code == 401
    assert provider.userinfo_calls == before + 1


async def test_the_cache_of_answers_is_bounded(provider: Provider, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(oidc_issuer=provider.base, oidc_client_id="pacte", data_dir=tmp_path)
    checker = AccessTokens(settings)
    checker.MAX_CACHED = 50  # type: ignore[misc]
    for i in range(120):
        assert await checker.actor(f"made-up-{i}") is None
    assert len(checker._answers) == 50
    assert checker.clients_made == 1
    await checker.aclose()
