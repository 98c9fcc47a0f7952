"""PostgreSQL or Temporal unreachable for a moment (restarting, a connection dropped) is answered 503 with the usual
problem, so the caller sends the request again — never a bare 500 with a text body (issue 28's chaos run saw 40 of
those while PostgreSQL and Temporal restarted: while the bearer token was checked, and in the routes)."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from temporalio.service import RPCError, RPCStatusCode

from pacte.api import errors
from pacte.api.middleware import Authenticate

FAILURES: dict[str, Exception] = {
    "starting": asyncpg.CannotConnectNowError("the database system is starting up"),
    "dropped": asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    "closed": asyncpg.InterfaceError("cannot call Transaction.__aexit__(): the underlying connection is closed"),
    "socket": FileNotFoundError(2, "No such file or directory"),
    "temporal": RPCError("transport error", RPCStatusCode.UNKNOWN, b""),
    "temporal_down": RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b""),
}


def app_raising(failure: Exception | None, authenticate: bool = False) -> FastAPI:
    app = FastAPI()
    errors.install(app)

    @app.get("/boom")
    async def boom() -> dict[str, Any]:
        if failure is not None:
            raise failure
        return {}

    if authenticate:
        app.add_middleware(Authenticate, database=lambda: object())
    return app


async def get(app: FastAPI, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://pacte") as http:
        return await http.get("/boom", headers=headers or {})


@pytest.mark.parametrize("name", sorted(FAILURES))
async def test_a_part_unreachable_in_a_route_is_a_503_problem(name: str) -> None:
    response = await get(app_raising(FAILURES[name]))
    assert response.status_code == 503
    expected = "temporal_unavailable" if name.startswith("temporal") else "store_unavailable"
    assert response.json()["code"] == expected and response.headers["retry-after"] == "1"


async def test_another_temporal_error_is_not_hidden_as_unavailable() -> None:
    response = await get(app_raising(RPCError("bad request", RPCStatusCode.INVALID_ARGUMENT, b"")))
    assert response.status_code == 500


async def test_the_store_unreachable_while_the_token_is_checked_is_a_503_problem(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def down(database: Any, presented: str) -> None:
        raise asyncpg.CannotConnectNowError("the database system is shutting down")

    monkeypatch.setattr("pacte.api.middleware.credentials.authenticate", down)
    response = await get(app_raising(None, authenticate=True), {"Authorization": "Bearer pacte_x"})
    assert response.status_code == 503 and response.json()["code"] == "store_unavailable"
