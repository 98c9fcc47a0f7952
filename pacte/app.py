"""The composition root: the HTTP API and the web interface in one application, over one service layer.
(``pacte.api`` and ``pacte.web`` never import each other; this module puts them side by side.)"""

from __future__ import annotations

from fastapi import FastAPI

from pacte import api
from pacte.service.facade import Pacte
from pacte.settings import Settings, get_settings


def create_app(settings: Settings | None = None, *, service: Pacte | None = None) -> FastAPI:
    settings = settings or get_settings()
    return api.create_app(settings, service=service)
