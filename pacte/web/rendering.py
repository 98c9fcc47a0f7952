"""Pages are rendered here: the templates, their French filters, and what every page shows (the person, the CSRF
token, messages left by the previous page)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from pacte.service.facade import Pacte
from pacte.web import session
from pacte.web.formats import FILTERS

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.filters.update(FILTERS)
ROOT = "/ui"


def service(request: Request) -> Pacte:
    found: Pacte = request.app.state.service()
    return found


def flash(request: Request, kind: str, text: str) -> None:
    """A message for the next page (after a redirect): success, info, warning or error."""
    request.session.setdefault("flash", []).append([kind, text])


def render(request: Request, template: str, title: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "title": title,
            "root": ROOT,
            "static": f"{ROOT}/static",
            "person": session.current(request),
            "csrf": session.csrf_token(request),
            "flashes": request.session.pop("flash", []),
            "breadcrumb": context.pop("breadcrumb", None),
            "section": context.pop("section", None),
            **context,
        },
        status_code=status_code,
    )
