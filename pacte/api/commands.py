"""One operation per operator command, generated from the service's catalogue (the same table the CLI and the web
interface use), each with its own request body in the OpenAPI schema."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel

from domain.actors import Actor
from domain.errors import DomainError
from pacte.api.deps import current_actor, pacte
from pacte.service.answers import Answer, Problem
from pacte.service.catalogue import COMMAND_ROUTES, command_body_models
from pacte.service.facade import Pacte

router = APIRouter()


def _endpoint(kind: str) -> Any:
    async def endpoint(
        request: Request,
        actor: Actor = Depends(current_actor),
        service: Pacte = Depends(pacte),
        idempotency_key: str | None = Header(default=None, max_length=200),
    ) -> Answer:
        async def body() -> Any:
            try:
                return await request.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise DomainError(
                    "body: not valid JSON", field="body", code="invalid_value", rule="request.invalid_json"
                ) from None

        # The body is read only once role and scope are checked: see Pacte.command.
        return await service.command(actor, kind, dict(request.path_params), body, idempotency_key)

    endpoint.__name__ = f"command_{kind}"
    return endpoint


def _openapi(path: str, model: type[BaseModel]) -> dict[str, Any]:
    return {
        # The endpoint reads its path through the request, so the parameters are declared here.
        "parameters": [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "minLength": 1, "maxLength": 64},
            }
            for name in re.findall(r"{(\w+)}", path)
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": model.model_json_schema(ref_template="#/components/schemas/{model}")}
            },
        },
    }


models = command_body_models()
for method, path, kind, _ in COMMAND_ROUTES:
    router.add_api_route(
        path,
        _endpoint(kind),
        methods=[method],
        response_model=Answer,
        tags=["contracts"],
        summary=kind,
        openapi_extra=_openapi(path, models[kind]),
        responses={404: {"model": Problem}, 409: {"model": Problem}},
    )
