"""The service's own health and the reference data (territories)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from domain.actors import Actor
from domain.territories import Territory
from pacte.api.deps import current_actor, pacte
from pacte.service.facade import Pacte
from pacte.service.health import NotReady, Readiness, readiness

router = APIRouter()


@router.get("/health", tags=["service"])
async def health() -> dict[str, str]:
    """Alive: the process answers (no dependency checked; see /ready)."""
    return {"status": "ok"}


LOOPBACK = frozenset({"127.0.0.1", "::1"})


@router.get("/metrics", tags=["service"], response_class=Response)
async def prometheus(request: Request, service: Pacte = Depends(pacte)) -> Response:
    """Prometheus' text format: Pacte's metrics and the Temporal SDK's runtime metrics of this process. On the API's
    port, to callers on this machine only (they tell the activity of every département); Prometheus scrapes
    PACTE_METRICS_PORT, which no deployment publishes."""
    client = request.client.host if request.client else None
    if client not in LOOPBACK:
        return JSONResponse({"code": "not_found", "message": "Not Found", "field": None}, 404)
    return Response(await service.metrics(), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/ready",
    tags=["service"],
    response_model=Readiness,
    responses={503: {"model": NotReady, "description": "A problem (`not_ready`) that keeps every check"}},
)
async def ready(service: Pacte = Depends(pacte)) -> JSONResponse:
    """Ready to work: Temporal reachable, the event store reachable with its migrations applied and unchanged, a
    worker polling the task queue; otherwise 503, a problem like every refusal (``code`` ``not_ready``, ``message``
    naming each failing check) that keeps the checks."""
    found = await readiness(service)
    if found.ready:
        return JSONResponse(found.model_dump(mode="json"))
    return JSONResponse(NotReady.of(found).model_dump(mode="json"), status_code=503)


@router.get("/territories", response_model=list[Territory], tags=["reference"])
async def territories(actor: Actor = Depends(current_actor)) -> list[Territory]:
    return Pacte.territories()
