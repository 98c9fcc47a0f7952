"""How Pacte's HTTP listeners treat slow clients: every server (``pacte api``, ``pacte dev``, the metrics port) is
configured here.

uvicorn bounds the idle time between two requests (keep-alive) but not the time a client takes to send a request's
headers: a client sending one header byte every few seconds held its connection, and its slot, forever (400 such
connections were still open after 60 s, the sign-in form's included). Here a connection has ``header_timeout_s`` to
send each request's headers, or it is closed; the body has its own deadline (``BodyLimit``, 408)."""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from pacte.settings import Settings

KEEP_ALIVE_S = 5  # idle between two requests on one connection


class SlowClientProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's headers."""

    header_timeout_s = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _too_slow(self) -> None:
        self._header_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()  # still no complete request line and headers: the client is holding a slot

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._arm()  # the first bytes of a request (the keep-alive timer stops here): its headers' clock runs
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the headers are in

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def server_config(app: Any, settings: Settings, *, host: str, port: int, **options: Any) -> uvicorn.Config:
    """A uvicorn configuration with Pacte's limits on slow clients."""
    protocol = type("PacteHTTP", (SlowClientProtocol,), {"header_timeout_s": settings.http_header_timeout_s})
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        timeout_keep_alive=KEEP_ALIVE_S,
        log_config=None,
        **options,
    )
