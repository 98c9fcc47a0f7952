"""What a route needs from the request: the authenticated actor and the service layer."""

from __future__ import annotations

from fastapi import Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain.actors import Actor
from domain.territories import CONTRACT_ID_PATTERN
from pacte.service.facade import Pacte

bearer = HTTPBearer(auto_error=False, description="A token issued by `pacte tokens add` (or `pacte dev`)")
# A contract id in a query: the same pattern as in commands, so nothing unstorable (a NUL) reaches the database.
CONTRACT_QUERY = Query(default=None, pattern=CONTRACT_ID_PATTERN)


def current_actor(request: Request, _: HTTPAuthorizationCredentials | None = Security(bearer)) -> Actor:
    # Authenticate has already checked the token; the Security parameter puts the scheme in the OpenAPI schema.
    actor: Actor = request.state.actor
    return actor


def pacte(request: Request) -> Pacte:
    service: Pacte = request.app.state.pacte
    return service
