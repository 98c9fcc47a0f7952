"""The auditors' reads: a contract's timeline, its state as of a date, what changed between two dates, and the
integrity of the whole store (verify, anchor, cross-check)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from domain.actors import Actor
from domain.business_time import Day, When
from domain.state import ContractState
from pacte.api.deps import current_actor, pacte
from pacte.api.errors import NOT_FOUND
from pacte.service.answers import Anchor, CrossCheck, TimelineEntry, VerifyReport
from pacte.service.facade import Pacte

router = APIRouter(tags=["audit"])


@router.get("/contracts/{contract_id}/timeline", response_model=list[TimelineEntry], responses=NOT_FOUND)
async def timeline(
    contract_id: str, actor: Actor = Depends(current_actor), service: Pacte = Depends(pacte)
) -> list[TimelineEntry]:
    return await service.timeline(actor, contract_id)


@router.get("/contracts/{contract_id}/as-of/{day}", response_model=ContractState, responses=NOT_FOUND)
async def as_of(
    contract_id: str,
    day: Day,
    known_at: Annotated[
        When | None,
        Query(
            description="Record time: answer with only what Pacte knew then (a date: the end of that day in "
            "Paris). Default: everything known now.",
        ),
    ] = None,
    actor: Actor = Depends(current_actor),
    service: Pacte = Depends(pacte),
) -> ContractState:
    """What was true on ``day`` (business time), as known now or as known at ``known_at`` (record time)."""
    return await service.as_of(actor, contract_id, day, known_at)


@router.get("/contracts/{contract_id}/changes", responses=NOT_FOUND)
async def changes(
    contract_id: str,
    start: Annotated[Day, Query()],
    end: Annotated[Day, Query()],
    actor: Actor = Depends(current_actor),
    service: Pacte = Depends(pacte),
) -> dict[str, Any]:
    """What changed between two business dates, and why: each fact in between says whether it is a new fact,
    a fact recorded late, a rectification, a withdrawal or the calendar's; facts of before ``start`` recorded
    after it (late records, corrections) are listed apart, since they changed what was known of ``start``."""
    return await service.changes(actor, contract_id, start, end)


@router.get("/audit/verify", response_model=VerifyReport)
async def audit_verify(actor: Actor = Depends(current_actor), service: Pacte = Depends(pacte)) -> VerifyReport:
    return await service.verify(actor)


@router.post("/audit/verify", response_model=VerifyReport)
async def audit_verify_anchor(
    anchor: Anchor, actor: Actor = Depends(current_actor), service: Pacte = Depends(pacte)
) -> VerifyReport:
    return await service.verify(actor, anchor)


@router.get("/audit/anchor", response_model=Anchor)
async def audit_anchor(actor: Actor = Depends(current_actor), service: Pacte = Depends(pacte)) -> Anchor:
    return await service.anchor(actor)


@router.get("/audit/cross-check", response_model=CrossCheck)
async def cross_check(actor: Actor = Depends(current_actor), service: Pacte = Depends(pacte)) -> CrossCheck:
    """Each live workflow's state against the fold of its stored stream: any difference is reported."""
    return await service.cross_check(actor)
