"""A person's own API tokens: created by the signed-in person (acting as themselves: their role, scope and name go
with every command sent with it), listed, revoked. The token is shown once; only its hash is kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pacte import tokens
from pacte.web.rendering import ROOT, flash, render
from pacte.web.session import Person, check_csrf, person

router = APIRouter()


def _mine(request: Request, who: Person) -> list[tokens.TokenEntry]:
    if who.actor.person is None:
        return []
    return tokens.of_person(tokens.load(request.app.state.settings.tokens_path()), who.actor.person.sub)


@router.get("/jetons", response_class=HTMLResponse)
async def my_tokens(request: Request, who: Person = Depends(person)) -> HTMLResponse:
    return render(
        request, "tokens.html", "Mes jetons d'API", mine=_mine(request, who), created=None, now=datetime.now(UTC)
    )


@router.post("/jetons", response_class=HTMLResponse)
async def create(
    request: Request, who: Person = Depends(person), posted: dict[str, Any] = Depends(check_csrf)
) -> Response:
    try:
        days = int(posted.get("days", "90"))
        # Made under the session's grant: revoked or expired, the token stops working with it.
        token, entry = tokens.add(request.app.state.settings.tokens_path(), who.actor, days=days, grant_id=who.grant_id)
    except ValueError as exc:
        flash(request, "error", f"Jeton refusé : {exc}")
        return RedirectResponse(f"{ROOT}/jetons", status_code=303)
    return render(
        request,
        "tokens.html",
        "Mes jetons d'API",
        mine=_mine(request, who),
        created=(token, entry),
        now=datetime.now(UTC),
    )


@router.post("/jetons/{token_id}/revocation")
async def revoke(
    token_id: str, request: Request, who: Person = Depends(person), _: dict[str, Any] = Depends(check_csrf)
) -> RedirectResponse:
    sub = who.actor.person.sub if who.actor.person else ""
    try:
        tokens.revoke(request.app.state.settings.tokens_path(), token_id[:40], owner_sub=sub)
        flash(request, "success", f"Jeton {token_id[:40]} révoqué : il ne fonctionne plus.")
    except ValueError:
        flash(request, "error", "Ce jeton n'est pas l'un des vôtres.")
    return RedirectResponse(f"{ROOT}/jetons", status_code=303)
