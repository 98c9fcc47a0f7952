"""What runs before any route: the body's size limit and the bearer token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.responses import JSONResponse

from pacte import tokens
from pacte.api.errors import MAX_BODY_BYTES, MAX_IMPORT_BYTES, UNAUTHORIZED
from pacte.service.identity import AccessTokens


class BodyLimit:
    """Refuses request bodies over MAX_BODY_BYTES, whether or not they announce their length."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]], send: Any
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        limit = MAX_IMPORT_BYTES if scope["path"] == "/imports" else MAX_BODY_BYTES  # a file of many contracts
        too_big = JSONResponse({"code": "too_large", "message": f"request body over {limit} bytes", "field": None}, 413)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await too_big(scope, receive, send)
            return
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise ValueError("request body too large")
            return message

        await self.app(scope, counted, send)


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
        tokens_path: Callable[[], Any],
        public_paths: frozenset[str] = frozenset(),
        public_prefixes: tuple[str, ...] = (),
        access_tokens: AccessTokens | None = None,
    ) -> None:
        self.app = app
        self.access_tokens = access_tokens  # the identity provider's access tokens, when Pacte signs in through one
        self.tokens_path = tokens_path
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
        if scheme.lower() == "bearer" and 0 < len(presented) <= 200:
            actor = tokens.authenticate(tokens.load(self.tokens_path()), presented, datetime.now(UTC))
        # Not one of ours: maybe the identity provider's access token, for a person on the access list.
        provider_token = not presented.startswith("pacte_") and 0 < len(presented) <= 4096
        if actor is None and self.access_tokens is not None and scheme.lower() == "bearer" and provider_token:
            actor = await self.access_tokens.actor(presented)
        if actor is None:
            await JSONResponse(UNAUTHORIZED, 401, headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        scope.setdefault("state", {})["actor"] = actor
        await self.app(scope, receive, send)
