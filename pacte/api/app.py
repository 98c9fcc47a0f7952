"""The API application: its routers, its refusals, its authentication, and its documentation served from the app
itself (Swagger UI and ReDoc pinned and vendored: a network without internet still shows them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from pacte.api import audit, campaigns, commands, contracts, errors, exports, reference, search, tables, tokens
from pacte.api.middleware import Authenticate, BodyLimit, SecurityHeaders
from pacte.service import credentials
from pacte.service.facade import Pacte
from pacte.service.identity import AccessTokens
from pacte.settings import Settings, get_settings

DOCS_ASSETS = Path(__file__).parent / "static"
TITLE = "Pacte — contrats locaux des solidarités 2024–2027"


def create_app(
    settings: Settings | None = None,
    *,
    service: Pacte | None = None,
    public_paths: frozenset[str] = frozenset(),
    public_prefixes: tuple[str, ...] = (),
) -> FastAPI:
    """The API. Given a ``service`` it uses it (tests, ``pacte dev``); without, it opens its own.
    ``public_paths`` and ``public_prefixes`` are what the composition root mounts beside the API, which
    authenticates on its own (the web interface's session)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if service is not None:
            app.state.pacte = service
            if not service.credentials_imported:
                # A service given already open (tests, embedding): the files of earlier versions imported with its
                # store's role, which must then be the owner's (runtime.open_store does so for the API it opens).
                await credentials.import_files(service.store.pool, settings.access_path(), settings.tokens_path())
            yield
            return
        async with Pacte.open(settings, import_credentials=True) as opened:  # the files imported by the owner
            app.state.pacte = opened
            yield

    app = FastAPI(
        title=TITLE,
        version="0.2.0",
        lifespan=lifespan,
        # Every refusal is the same JSON problem; documenting it on every operation keeps the schema honest.
        responses=errors.PROBLEMS,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.add_middleware(BodyLimit, body_timeout_s=settings.http_body_timeout_s)
    # Added last, so it runs first.
    app.add_middleware(
        Authenticate,
        database=lambda: app.state.pacte.store.pool,
        public_paths=public_paths,
        public_prefixes=public_prefixes,
        access_tokens=AccessTokens(settings) if settings.oidc_issuer else None,
    )
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)  # outermost: on refusals too
    errors.install(app)
    for module in (reference, contracts, commands, audit, exports, campaigns, tokens, tables, search):
        app.include_router(module.router)
    _documentation(app)
    return app


def _documentation(app: FastAPI) -> None:
    app.mount("/docs-assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{TITLE} — Swagger UI",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url="/docs-assets/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/docs-assets/swagger-ui/favicon-32x32.png",
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{TITLE} — ReDoc",
            redoc_js_url="/docs-assets/redoc/redoc.standalone.js",
            redoc_favicon_url="/docs-assets/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )
