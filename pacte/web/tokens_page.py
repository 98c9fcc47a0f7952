"""API tokens in the web interface. A person's own ("Mes jetons d'API"): created by the signed-in person, acting as
themselves (their role, scope and name go with every command sent with it) under the grant of their session, so the
token dies with that grant; listed; revoked. An administrator's ("Jetons d'API du périmètre", DOMAIN.md §5): every
token within their scope, each revocable at once. The token is shown once; only its hash is kept (PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.actors import Role
from domain.errors import DomainError
from pacte import tokens
from pacte.service import credentials
from pacte.web.rendering import ROOT, flash, render
from pacte.web.session import Person, check_csrf, person

router = APIRouter()


def _pool(request: Request) -> Any:
    return request.app.state.service().store.pool


async def _mine(request: Request, who: Person) -> list[tokens.TokenEntry]:
    if who.actor.person is None:
        return []
    return [
        e
        for e in await credentials.list_tokens(_pool(request), who.actor)
        if e.actor.person is not None and e.actor.person.sub == who.actor.person.sub
    ]


@router.get("/jetons", response_class=HTMLResponse)
async def my_tokens(request: Request, who: Person = Depends(person)) -> HTMLResponse:
    return render(
        request,
        "tokens.html",
        "Mes jetons d'API",
        mine=await _mine(request, who),
        created=None,
        now=datetime.now(UTC),
        max_tokens=tokens.MAX_PER_PERSON,
    )


@router.post("/jetons", response_class=HTMLResponse)
async def create(
    request: Request, who: Person = Depends(person), posted: dict[str, Any] = Depends(check_csrf)
) -> Response:
    try:
        days = int(posted.get("days", "90"))
        # Made under the session's grant: revoked or expired, the token stops working with it.
        token, entry = await credentials.add_token(
            _pool(request), who.actor, days=days, grant_id=who.grant_id, by=who.name
        )
    except ValueError as exc:
        flash(request, "error", f"Jeton refusé : {_french(str(exc))}")
        return RedirectResponse(f"{ROOT}/jetons", status_code=303)
    return render(
        request,
        "tokens.html",
        "Mes jetons d'API",
        mine=await _mine(request, who),
        created=(token, entry),
        now=datetime.now(UTC),
        max_tokens=tokens.MAX_PER_PERSON,
    )


def _french(rule: str) -> str:
    """The refusals a person meets here, in French (the rule's English text stays in the logs and the API)."""
    if rule.startswith("tokens: a person holds at most"):
        return f"vous détenez déjà {tokens.MAX_PER_PERSON} jetons valides, le maximum ; révoquez-en un d'abord."
    if rule.startswith("days:"):
        return f"la durée de validité va de 1 à {tokens.MAX_DAYS} jours."
    if rule.startswith("grant_id:"):
        return "votre accès a été retiré ou a expiré ; reconnectez-vous."
    if rule.startswith("invalid literal"):
        return "la durée de validité doit être un nombre de jours."
    return rule


@router.post("/jetons/{token_id}/revocation")
async def revoke(
    token_id: str, request: Request, who: Person = Depends(person), _: dict[str, Any] = Depends(check_csrf)
) -> RedirectResponse:
    back = f"{ROOT}/administration/jetons" if who.actor.role is Role.ADMIN else f"{ROOT}/jetons"
    try:
        await credentials.revoke_token(_pool(request), token_id[:40], by=who.actor)
        flash(request, "success", f"Jeton {token_id[:40]} révoqué : il ne fonctionne plus.")
    except DomainError as error:
        message = "Ce jeton est déjà révoqué." if error.code == "invalid_value" else None
        flash(request, "error", message or "Ce jeton n'est ni l'un des vôtres ni dans votre périmètre.")
    return RedirectResponse(back, status_code=303)


@router.get("/administration/jetons", response_class=HTMLResponse)
async def administered(request: Request, who: Person = Depends(person)) -> HTMLResponse:
    if who.actor.role is not Role.ADMIN:
        return render(
            request,
            "error.html",
            "Accès réservé",
            403,
            message="Cette page est réservée aux administrateurs de Pacte.",
        )
    return render(
        request,
        "tokens_admin.html",
        "Jetons d'API du périmètre",
        entries=await credentials.list_tokens(_pool(request), who.actor),
        now=datetime.now(UTC),
        section="administration",
    )
