"""Signing in and out. The pages only see ``session.Person``; the demo method lists the demo identities when the
service allows it (``PACTE_DEMO_SIGN_IN``, set by ``pacte dev``), and OpenID Connect will be another method."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.actors import Actor
from domain.errors import DomainError
from pacte.service import credentials
from pacte.service.identity import SignInRefused, actor_for, display_name
from pacte.web import session
from pacte.web.oidc import finish
from pacte.web.pages import landing
from pacte.web.rendering import ROOT, flash, render
from pacte.web.signin import demo_identities

log = structlog.stdlib.get_logger("pacte.web")

router = APIRouter()


def _safe_next(value: str | None) -> str:
    """Back to the page asked for, on this site only (never an open redirect); "" when none: the person lands on
    their role's own page (pages.landing)."""
    if value and value.startswith(f"{ROOT}/") and not value.startswith("//") and "\\" not in value:
        return value
    return ""


@router.get("/connexion", response_class=HTMLResponse)
async def sign_in_page(request: Request) -> HTMLResponse:
    demo = request.app.state.settings.demo_sign_in
    return render(
        request,
        "signin.html",
        "Se connecter",
        identities=demo_identities() if demo else [],
        oidc=request.app.state.oidc is not None,
        next=_safe_next(request.query_params.get("suivant")),
    )


def _refused(request: Request, why: str) -> HTMLResponse:
    log.warning("sign-in refused", reason=why)
    return render(
        request,
        "error.html",
        "Connexion refusée",
        403,
        message="La connexion n'a pas pu être vérifiée : rien n'a été ouvert. Recommencez depuis la page de connexion.",
    )


def _base(request: Request) -> str:
    public = request.app.state.settings.public_url
    return public.rstrip("/") if public else str(request.base_url).rstrip("/").removesuffix(ROOT)


def _not_on_the_list(request: Request, name: str) -> HTMLResponse:
    return render(
        request,
        "error.html",
        "Accès non autorisé",
        403,
        message=f"{name} n'est pas sur la liste d'accès de Pacte (ou son accès a expiré ou été retiré). "
        "Demandez-le à l'administrateur de votre préfecture : pacte access grant.",
    )


async def _signed_in(
    request: Request, name: str, organisation: str, actor: Actor, grant_id: str, next_url: str | None
) -> RedirectResponse:
    """Whatever the method: a fresh session under the access list's grant, and back to the page asked for."""
    await session.sign_in(request, name, organisation, actor, request.app.state.settings.session_hours, grant_id)
    flash(request, "info", f"Connecté : {name}, {organisation}.")
    return RedirectResponse(_safe_next(next_url) or landing(actor), status_code=303)


@router.get("/oidc/connexion")
async def oidc_start(request: Request) -> Response:
    oidc = request.app.state.oidc
    if oidc is None:
        raise DomainError(
            "oidc: no identity provider is configured", field="oidc", code="not_found", rule="signin.no_provider"
        )
    request.session["next"] = _safe_next(request.query_params.get("suivant"))
    # authlib keeps the state and the nonce in the session, and checks both on return; the redirect URI is exact.
    redirect: Response = await oidc.authorize_redirect(request, f"{_base(request)}{ROOT}/oidc/retour")
    return redirect


@router.get("/oidc/retour")
async def oidc_return(request: Request) -> Response:
    oidc = request.app.state.oidc
    settings = request.app.state.settings
    if oidc is None:
        raise DomainError(
            "oidc: no identity provider is configured", field="oidc", code="not_found", rule="signin.no_provider"
        )
    try:
        claims, id_token = await finish(oidc, request, settings)
    except SignInRefused as refused:
        request.session.clear()
        return _refused(request, str(refused))
    name = display_name(claims)
    mapped = await actor_for(claims, request.app.state.service().store.pool)
    if mapped is None:
        request.session.clear()
        return _not_on_the_list(request, name)
    actor, found = mapped
    next_url = request.session.get("next")
    organisation = found.organisation or str(claims.get("organizational_unit") or found.identity)
    signed_in = await _signed_in(request, name, organisation, actor, found.grant_id, next_url)
    request.session["id_token"] = id_token  # the hint the provider's sign-out asks for
    return signed_in


@router.post("/connexion")
async def sign_in(request: Request, posted: dict[str, Any] = Depends(session.check_csrf)) -> Response:
    settings = request.app.state.settings
    chosen = {i.key: i for i in demo_identities()}.get(posted.get("identity", "")) if settings.demo_sign_in else None
    if chosen is None:
        raise DomainError("identity: no such sign-in", field="identity", code="forbidden", rule="signin.unknown")
    person = chosen.actor.person
    assert person is not None
    # The demo method vouches for who the person is; what they may do comes from the access list, as it will for
    # a person signed in through OpenID Connect.
    found = await credentials.resolve(
        request.app.state.service().store.pool, {"sub": person.sub, "email": person.email or ""}
    )
    if found is None:
        return _not_on_the_list(request, person.name)
    actor = found.actor().model_copy(update={"person": person})
    organisation = found.organisation or chosen.organisation
    return await _signed_in(request, person.name, organisation, actor, found.grant_id, posted.get("next"))


@router.post("/deconnexion")
async def sign_out(request: Request, _: dict[str, Any] = Depends(session.check_csrf)) -> RedirectResponse:
    id_token = request.session.get("id_token")
    await session.sign_out(request)
    oidc = request.app.state.oidc
    if oidc is not None and isinstance(id_token, str):
        # Out of the provider too: its end-session endpoint, with the id_token as hint, then back here.
        end = (await oidc.load_server_metadata())["end_session_endpoint"]
        query = urlencode(
            {
                "id_token_hint": id_token,
                "post_logout_redirect_uri": f"{_base(request)}{ROOT}/connexion",
                "client_id": request.app.state.settings.oidc_client_id,
            }
        )
        return RedirectResponse(f"{end}?{query}", status_code=303)
    return RedirectResponse(f"{ROOT}/connexion", status_code=303)
