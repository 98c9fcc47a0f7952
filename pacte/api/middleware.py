"""What runs before any route: the body's size limit and the bearer token."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.responses import HTMLResponse, JSONResponse

from pacte.api.errors import MAX_BODY_BYTES, MAX_IMPORT_BYTES, UNAUTHORIZED, unavailable
from pacte.service import credentials
from pacte.service.identity import AccessTokens, LookupBudget
from pacte.service.unavailable import STORE_DOWN


class BodyTimeout(Exception):
    """The client sent its body too slowly (a slowloris holding a connection open one byte at a time)."""


# Where a file of many contracts is sent: the API, and the web's preview and confirmation (with the form's fields).
IMPORT_PATHS = frozenset({"/imports", "/ui/reprise/apercu", "/ui/reprise/confirmer"})


WEB_PATHS = ("/ui/", "/ui?")


def person_page(status: int, title: str, sentence: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A refusal met before any route, as a person reads it on the web (French, the DSFR's look)."""
    return HTMLResponse(
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title} — Pacte</title>"
        '<link rel="stylesheet" href="/ui/static/vendor/dsfr/dsfr.min.css"></head>'
        f'<body><main class="fr-container fr-my-4w"><h1>{title}</h1>'
        f'<div class="fr-alert fr-alert--error"><p>{sentence}</p></div>'
        '<p class="fr-mt-4w"><a class="fr-link" href="/ui/contrats">Retour aux contrats</a></p></main></body></html>',
        status,
        headers=headers,
    )


class BodyLimit:
    """Refuses request bodies over their limit (413), whether or not they announce their length (chunked), and
    bodies sent too slowly (408). Either way nothing reached a route."""

    def __init__(self, app: Any, body_timeout_s: float = 30.0) -> None:
        self.app = app
        self.body_timeout_s = body_timeout_s

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]], send: Any
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        limit = MAX_IMPORT_BYTES if scope["path"] in IMPORT_PATHS else MAX_BODY_BYTES  # a file of many contracts
        too_big: Any = JSONResponse(
            {"code": "too_large", "message": f"request body over {limit} bytes", "field": None}, 413
        )
        if scope["path"].startswith(WEB_PATHS):  # a person's page: French, like the web's other error pages
            too_big = person_page(
                413, "Envoi trop volumineux", "Ce que vous avez envoyé est trop volumineux. Rien n'a été enregistré."
            )
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await too_big(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.body_timeout_s

        async def timed() -> dict[str, Any]:
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                return await asyncio.wait_for(receive(), max(remaining, 0.001))
            except TimeoutError:
                raise BodyTimeout from None

        slow: Any = JSONResponse(
            {
                "code": "timeout",
                "message": f"request body not received within {self.body_timeout_s:g} s",
                "field": None,
            },
            408,
            headers={"Connection": "close"},
        )
        if scope["path"].startswith(WEB_PATHS):
            slow = person_page(
                408,
                "Envoi interrompu",
                "Ce que vous avez envoyé est arrivé trop lentement. Rien n'a été enregistré.",
                headers={"Connection": "close"},
            )
        if declared == b"0" or (declared is None and b"chunked" not in headers.get(b"transfer-encoding", b"").lower()):
            await self.app(scope, receive, send)  # no body
            return
        # The body is read here, whole, within the deadline and the limit, before any route sees it (inside a
        # route, FastAPI turns whatever its read raises into a 400, i.e. "not valid JSON").
        buffered: list[dict[str, Any]] = []
        seen = 0
        try:
            while True:
                message = await timed()
                buffered.append(message)
                if message["type"] != "http.request":
                    break
                seen += len(message.get("body", b""))
                if seen > limit:
                    await too_big(scope, receive, send)
                    return
                if not message.get("more_body", False):
                    break
        except BodyTimeout:
            await slow(scope, receive, send)
            return

        async def replay() -> dict[str, Any]:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)


# Sent on every answer, API and web interface alike. Scripts only from Pacte itself (the web interface has no inline
# script; htmx and DSFR are vendored); inline styles allowed (htmx injects its indicator style, DSFR sets some);
# nothing may frame Pacte (clickjacking of a signature form).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
# Swagger UI and ReDoc start with an inline script (FastAPI's pages), and ReDoc runs a worker from a blob.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})


class SecurityHeaders:
    """The headers every answer carries: a content security policy, no framing, no MIME sniffing, no referrer sent
    elsewhere; HSTS once Pacte is behind TLS (``secure_cookies``), so a browser never speaks plain HTTP to it again."""

    def __init__(self, app: Any, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]], send: Any
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_CSP if scope.get("path") in DOCS_PATHS else CSP
        added = [
            (b"content-security-policy", policy.encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
        ]
        if self.hsts:
            added.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
        names = {name for name, _ in added}

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + added}
            await send(message)

        await self.app(scope, receive, with_headers)


class Authenticate:
    """Authenticates the bearer token before anything else reads the request: a caller without a valid token gets
    the same 401 whatever it sent (a body that is not JSON, an unknown route), so it learns nothing of the API."""

    PUBLIC = frozenset({"/health", "/ready", "/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
    # The API's own documentation assets, and whatever the composition root mounts beside the API (the web
    # interface, which authenticates people by its session cookie).
    PUBLIC_PREFIXES: tuple[str, ...] = ("/docs-assets/",)

    def __init__(
        self,
        app: Any,
        database: Callable[[], Any] | None = None,
        public_paths: frozenset[str] = frozenset(),
        public_prefixes: tuple[str, ...] = (),
        access_tokens: AccessTokens | None = None,
    ) -> None:
        self.app = app
        # Where tokens and grants are (PostgreSQL, pacte_auth): every process reads the same at every request, so a
        # revoked token or grant is refused at once by all of them.
        self.database = database
        self.lookups = LookupBudget()  # unknown bearers checked at the provider, per caller
        self.access_tokens = access_tokens  # the identity provider's access tokens, when Pacte signs in through one
        self.public = self.PUBLIC | public_paths
        self.public_prefixes = self.PUBLIC_PREFIXES + public_prefixes

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]], send: Any
    ) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in self.public or path.startswith(self.public_prefixes):
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        scheme, _, presented = header.partition(" ")
        presented = presented.strip()
        actor = None
        database = self.database() if self.database is not None else None
        ours = presented.startswith("pacte_")
        if scheme.lower() == "bearer" and ours and len(presented) <= 200 and database is not None:
            try:
                actor = await credentials.authenticate(database, presented)
            except STORE_DOWN:  # PostgreSQL restarting: the caller sends again, never a bare 500
                await unavailable("store_unavailable", "The event store")(scope, receive, send)
                return
        # Not one of ours: maybe the identity provider's access token, for a person on the access list.
        provider_token = not ours and 0 < len(presented) <= 4096
        if actor is None and self.access_tokens is not None and scheme.lower() == "bearer" and provider_token:
            known, _ = self.access_tokens.cached(presented)
            if not known:
                source = (scope.get("client") or ("?", 0))[0]
                if not self.lookups.take(source):
                    # Too many unknown bearers from this caller: the provider is not asked again for a while.
                    await JSONResponse(
                        {"code": "rate_limited", "message": "too many unknown tokens; retry later", "field": None},
                        429,
                        headers={"Retry-After": "10"},
                    )(scope, receive, send)
                    return
            actor = await self.access_tokens.actor(presented, database)
        if actor is None:
            await JSONResponse(UNAUTHORIZED, 401, headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        scope.setdefault("state", {})["actor"] = actor
        await self.app(scope, receive, send)
