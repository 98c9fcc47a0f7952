"""API tokens as the API shows them: an administrator (role ``admin``) lists and revokes the tokens within their
scope; anyone else sees and revokes only their own. The hash of a token is never answered."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path

from domain.actors import Actor
from pacte.api.deps import current_actor, pacte
from pacte.service import credentials
from pacte.service.facade import Pacte

router = APIRouter(tags=["tokens"])


@router.get("/tokens")
async def list_tokens(actor: Actor = Depends(current_actor), service: Pacte = Depends(pacte)) -> list[dict[str, Any]]:
    return credentials.visible_fields(await credentials.list_tokens(service.store.pool, actor))


@router.post("/tokens/{token_id}/revoke")
async def revoke_token(
    token_id: str = Path(max_length=40, pattern=r"^[0-9a-zA-Z_-]+$"),
    actor: Actor = Depends(current_actor),
    service: Pacte = Depends(pacte),
) -> dict[str, Any]:
    """Revoke a token: refused from its next use by every API process. Refused (403, nothing changed) when the
    token is neither the caller's own nor within an administrator's scope."""
    entry = await credentials.revoke_token(service.store.pool, token_id, by=actor)
    return credentials.visible_fields([entry])[0]
