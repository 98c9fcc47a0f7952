"""The composition root: the HTTP API and the web interface in one application, over one service layer.
(``pacte.api`` and ``pacte.web`` never import each other; this module puts them side by side.)"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from pacte import api
from pacte.service.facade import Pacte
from pacte.settings import Settings, get_settings
from pacte.tracing import instrument_api
from pacte.web import create_web

WEB_ROOT = "/ui"


def create_app(settings: Settings | None = None, *, service: Pacte | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = api.create_app(
        settings, service=service, public_paths=frozenset({"/", WEB_ROOT}), public_prefixes=(f"{WEB_ROOT}/",)
    )

    def running() -> Pacte:
        found: Pacte = app.state.pacte
        return found

    app.mount(WEB_ROOT, create_web(settings, running))

    instrument_api(app)

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse(f"{WEB_ROOT}/contrats", status_code=303)

    return app
