"""The service's own health and the reference data (territories)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from domain.actors import Actor
from domain.territories import Territory
from pacte.api.deps import current_actor
from pacte.service.facade import Pacte

router = APIRouter()


@router.get("/health", tags=["service"])
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/territories", response_model=list[Territory], tags=["reference"])
async def territories(actor: Actor = Depends(current_actor)) -> list[Territory]:
    return Pacte.territories()
