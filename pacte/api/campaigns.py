"""Campaigns: one préfet's proposals to many territories at once, followed as they go."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header

from domain.actors import Actor
from pacte.api.deps import current_actor, pacte
from pacte.api.errors import NOT_FOUND
from pacte.service.answers import CampaignProgress
from pacte.service.catalogue import CampaignBody
from pacte.service.facade import Pacte

router = APIRouter(tags=["campaigns"])


@router.post("/campaigns", response_model=CampaignProgress, status_code=202)
async def start_campaign(
    body: CampaignBody,
    actor: Actor = Depends(current_actor),
    service: Pacte = Depends(pacte),
    idempotency_key: str | None = Header(default=None, max_length=200),
) -> CampaignProgress:
    return await service.start_campaign(actor, body, idempotency_key)


@router.get("/campaigns/{campaign_id}", response_model=CampaignProgress, responses=NOT_FOUND)
async def campaign(
    campaign_id: str, actor: Actor = Depends(current_actor), service: Pacte = Depends(pacte)
) -> CampaignProgress:
    return await service.campaign(actor, campaign_id)
