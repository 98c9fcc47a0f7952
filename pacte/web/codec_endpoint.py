"""The codec endpoint Temporal's Web UI reads payloads through (the codec server protocol: POST <endpoint>/decode and
<endpoint>/encode, a JSON body ``{"payloads": [...]}`` of protobuf-JSON payloads), behind Pacte's sign-in.

Only a person who may read persons everywhere opens payloads here: an auditor, or an administrator of national scope
(the UI shows every contract's history). ``/encode`` refuses everyone: a payload sealed with Pacte's key is an order
the worker obeys, and Pacte seals only the commands its own service layer has checked.

The UI calls this from its own origin: ``PACTE_TEMPORAL_UI_ORIGIN`` is the one origin answered with CORS (with
credentials, so the person's session cookie comes along: "Include cross-origin credentials" in the UI's codec
settings).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from domain.actors import Role
from pacte.codec import PacteCodec
from pacte.web.session import SignInRequired, person

router = APIRouter()

MAX_BODY = 4 * 1024 * 1024  # a history's page of payloads (Temporal's own limit is 2 MB a payload)


def _cors(request: Request, response: Response) -> Response:
    allowed = request.app.state.settings.temporal_ui_origin
    origin = request.headers.get("origin")
    if allowed and origin == allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "content-type, x-namespace, authorization"
        response.headers["Vary"] = "Origin"
    return response


def _problem(request: Request, status: int, code: str, detail: str) -> Response:
    return _cors(request, JSONResponse({"code": code, "detail": detail}, status_code=status))


@router.options("/codec/decode")
@router.options("/codec/encode")
async def preflight(request: Request) -> Response:
    return _cors(request, Response(status_code=204))


async def _reader(request: Request) -> Response | None:
    """None when the signed-in person may read payloads; else the answer (401 signed out, 403 any other role)."""
    try:
        who = await person(request)
    except SignInRequired:
        return _problem(request, 401, "sign_in_required", "sign in to Pacte's web interface first")
    actor = who.actor
    if actor.role is Role.AUDITOR or (actor.role is Role.ADMIN and "*" in actor.scope):
        return None
    return _problem(request, 403, "forbidden", "only auditors and national administrators read Temporal's payloads")


@router.post("/codec/decode")
async def decode(request: Request) -> Response:
    refused = await _reader(request)
    if refused is not None:
        return refused
    body = await request.body()
    if len(body) > MAX_BODY:
        return _problem(request, 413, "too_large", f"at most {MAX_BODY} bytes of payloads at once")
    codec: PacteCodec = request.app.state.codec
    try:
        answer = await codec.decode_json(body)
    except ValueError as exc:
        return _problem(request, 422, "invalid_value", str(exc))
    return _cors(request, JSONResponse(answer))


@router.post("/codec/encode")
async def encode(request: Request) -> Response:
    refused = await _reader(request)
    if refused is not None:
        return refused
    return _problem(
        request,
        403,
        "forbidden",
        "Pacte seals nothing on request: a sealed payload is an order its worker obeys; act through Pacte instead",
    )
