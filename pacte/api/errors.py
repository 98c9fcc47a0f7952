"""Every refusal is the same JSON problem — ``code``, ``message`` (the rule) and ``field`` — whatever raised it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import DomainError
from pacte.service import ContractNotFound
from pacte.service.answers import Problem
from pacte.service.unavailable import STORE_DOWN, TEMPORAL_RPC, temporal_down

MAX_BODY_BYTES = 256 * 1024
MAX_IMPORT_BYTES = 8 * 1024 * 1024
UNAUTHORIZED = {"code": "unauthorized", "message": "missing, invalid or expired credentials", "field": None}

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such contract"}}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing, invalid or expired token"},
    403: {"model": Problem, "description": "Role or scope does not allow it"},
    413: {"model": Problem, "description": f"Request body over {MAX_BODY_BYTES} bytes"},
    422: {"model": Problem, "description": "Invalid input: `field` names the field, `message` the rule"},
}
# FastAPI documents extra answers in the success's media type; an export's refusals are JSON all the same.
EXPORT_PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {
        "description": answer["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for code, answer in PROBLEMS.items()
}


# PostgreSQL or Temporal unreachable for a moment: a 503 problem, sent again by the caller (pacte.service.unavailable).
def unavailable(code: str, what: str) -> JSONResponse:
    message = (
        f"{what} is unreachable for the moment: send the request again with the same Idempotency-Key (it is recorded "
        "once, and the answer says what was recorded)"
    )
    return JSONResponse({"code": code, "message": message, "field": None}, 503, headers={"Retry-After": "1"})


def status_for(error: DomainError) -> int:
    if error.code == "not_found":
        return 404
    if error.code in ("forbidden", "out_of_scope"):
        return 403
    if error.code in (
        "already_exists",
        "lifecycle_violation",
        "concurrency",
        "idempotency_key_reused",
        "store_conflict",
        "store_diverged",
    ):
        return 409
    if error.code in ("timeout", "store_unavailable", "outcome_unknown"):
        return 503
    return 422


def _invalid(problems: list[Any], default: str, outer: tuple[str, ...] = ()) -> dict[str, Any]:
    """A body the schema refuses: its first problem where the API always put it (code, message, field), and every
    problem in ``errors`` (the first included), each with pydantic's error type as its rule and its context as params."""
    found = []
    nothing_said = {"loc": (), "msg": "invalid request" if default == "request" else "invalid value"}
    for problem in problems or [nothing_said]:
        field = ".".join(str(p) for p in problem.get("loc", ()) if p not in outer)
        context = problem.get("ctx") or {}
        found.append(
            {
                "code": "invalid_value",
                "message": f"{field or default}: {problem['msg']}",
                "field": field or None,
                "rule": str(problem.get("type", "invalid_value")),
                "params": {str(k): v for k, v in context.items() if isinstance(v, (str, int))},
            }
        )
    first = found[0]
    return {"code": first["code"], "message": first["message"], "field": first["field"], "errors": found}


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def refused(_: Request, error: DomainError) -> JSONResponse:
        return JSONResponse(error.to_dict(), status_code=status_for(error))

    @app.exception_handler(TEMPORAL_RPC)
    async def temporal_unreachable(_: Request, error: Exception) -> JSONResponse:
        if not (isinstance(error, TEMPORAL_RPC) and temporal_down(error)):
            raise error
        return unavailable("temporal_unavailable", "Temporal")

    for kind in STORE_DOWN:
        app.add_exception_handler(kind, _store_down)

    @app.exception_handler(ContractNotFound)
    async def not_found(_: Request, error: ContractNotFound) -> JSONResponse:
        return JSONResponse(
            {"code": "not_found", "message": f"no contract {error.contract_id}", "field": "contract_id"}, 404
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(_: Request, error: StarletteHTTPException) -> JSONResponse:
        # FastAPI's own refusals (a body that is not JSON, an unknown route or method) get the same problem shape.
        if error.status_code == 400:
            return JSONResponse({"code": "invalid_value", "message": "body: not valid JSON", "field": "body"}, 422)
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return JSONResponse(
            {"code": code, "message": str(error.detail), "field": None}, error.status_code, headers=error.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(_invalid(list(error.errors()), "request", ("body", "query", "path", "header")), 422)

    @app.exception_handler(ValidationError)
    async def invalid_model(_: Request, error: ValidationError) -> JSONResponse:
        return JSONResponse(_invalid(list(error.errors()), "body"), 422)

    @app.exception_handler(RecursionError)
    async def too_deep(_: Request, error: RecursionError) -> JSONResponse:
        # A body nested thousands of levels deep: a problem like any other, never a dropped connection.
        return JSONResponse({"code": "invalid_value", "message": "body: nested too deeply", "field": "body"}, 422)

    @app.exception_handler(ValueError)
    async def bad_value(_: Request, error: ValueError) -> JSONResponse:
        if "too large" in str(error):
            return JSONResponse(
                {"code": "too_large", "message": f"request body over {MAX_BODY_BYTES} bytes", "field": None}, 413
            )
        return JSONResponse({"code": "invalid_value", "message": str(error)[:500], "field": None}, 422)


async def _store_down(_: Request, error: Exception) -> JSONResponse:
    return unavailable("store_unavailable", "The event store")
