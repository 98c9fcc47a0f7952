"""Signing in and out. The pages only see ``session.Person``; the demo method lists the demo identities when the
service allows it (``PACTE_DEMO_SIGN_IN``, set by ``pacte dev``), and OpenID Connect will be another method."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.errors import DomainError
from pacte import access
from pacte.web import session
from pacte.web.rendering import ROOT, flash, render
from pacte.web.signin import demo_identities

router = APIRouter()


def _safe_next(value: str | None) -> str:
    """Back to the page asked for, on this site only (never an open redirect)."""
    if value and value.startswith(f"{ROOT}/") and not value.startswith("//") and "\\" not in value:
        return value
    return f"{ROOT}/contrats"


@router.get("/connexion", response_class=HTMLResponse)
async def sign_in_page(request: Request) -> HTMLResponse:
    demo = request.app.state.settings.demo_sign_in
    return render(
        request,
        "signin.html",
        "Se connecter",
        identities=demo_identities() if demo else [],
        next=_safe_next(request.query_params.get("suivant")),
    )


@router.post("/connexion")
async def sign_in(request: Request, posted: dict[str, Any] = Depends(session.check_csrf)) -> Response:
    settings = request.app.state.settings
    chosen = {i.key: i for i in demo_identities()}.get(posted.get("identity", "")) if settings.demo_sign_in else None
    if chosen is None:
        raise DomainError("identity: no such sign-in", field="identity", code="forbidden")
    person = chosen.actor.person
    assert person is not None
    # The demo method vouches for who the person is; what they may do comes from the access list, as it will for
    # a person signed in through OpenID Connect.
    found = access.resolve(
        access.load(settings.access_path()), {"sub": person.sub, "email": person.email}, datetime.now(UTC)
    )
    if found is None:
        return render(
            request,
            "error.html",
            "Accès non autorisé",
            403,
            message=f"{person.name} n'est pas sur la liste d'accès de Pacte (ou son accès a expiré ou été retiré). "
            "Demandez-le à l'administrateur de votre préfecture : pacte access grant.",
        )
    actor = found.actor().model_copy(update={"person": person})
    session.sign_in(
        request, person.name, found.organisation or chosen.organisation, actor, settings.session_hours, found.grant_id
    )
    flash(request, "info", f"Connecté : {person.name}, {found.organisation or chosen.organisation}.")
    return RedirectResponse(_safe_next(posted.get("next")), status_code=303)


@router.post("/deconnexion")
async def sign_out(request: Request, _: dict[str, Any] = Depends(session.check_csrf)) -> RedirectResponse:
    session.sign_out(request)
    return RedirectResponse(f"{ROOT}/connexion", status_code=303)
