"""Contracts: propose one, list them, read one, its deadlines, the reminders, and take over contracts under way."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request

from domain.actors import Actor
from domain.chorus import PlannedLine
from domain.deadlines import Deadline
from domain.money_trail import YearTrail
from domain.state import ContractState
from pacte.api.deps import CONTRACT_QUERY, current_actor, pacte
from pacte.api.errors import NOT_FOUND
from pacte.service.answers import Answer, ImportReport, Problem
from pacte.service.catalogue import ProposeBody
from pacte.service.facade import Pacte

router = APIRouter()


@router.post(
    "/contracts", response_model=Answer, status_code=201, tags=["contracts"], responses={409: {"model": Problem}}
)
async def propose(
    body: ProposeBody,
    actor: Actor = Depends(current_actor),
    service: Pacte = Depends(pacte),
    idempotency_key: str | None = Header(default=None, max_length=200),
) -> Answer:
    return await service.propose(actor, body, idempotency_key)


@router.get("/contracts", tags=["contracts"])
async def list_contracts(
    actor: Actor = Depends(current_actor), service: Pacte = Depends(pacte)
) -> list[dict[str, Any]]:
    return await service.list_contracts(actor)


@router.get("/contracts/{contract_id}", response_model=ContractState, responses=NOT_FOUND, tags=["contracts"])
async def show(
    contract_id: str, actor: Actor = Depends(current_actor), service: Pacte = Depends(pacte)
) -> ContractState:
    return await service.contract(actor, contract_id)


@router.get(
    "/contracts/{contract_id}/deadlines", response_model=list[Deadline], responses=NOT_FOUND, tags=["contracts"]
)
async def deadlines(
    contract_id: str, actor: Actor = Depends(current_actor), service: Pacte = Depends(pacte)
) -> list[Deadline]:
    return await service.deadlines(actor, contract_id)


@router.get(
    "/contracts/{contract_id}/money-trail", response_model=list[YearTrail], responses=NOT_FOUND, tags=["contracts"]
)
async def money_trail(
    contract_id: str, actor: Actor = Depends(current_actor), service: Pacte = Depends(pacte)
) -> list[YearTrail]:
    """Per programme year: programmed, notified, committed, paid, used, recoverable (cents), and the gaps found."""
    return await service.money_trail(actor, contract_id)


@router.post(
    "/accounting-extracts",
    response_model=list[PlannedLine],
    tags=["contracts"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A Chorus accounting extract, CSV with ';' (see the README, 'Following the money')",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def accounting_extract(
    request: Request,
    dry_run: bool = True,
    actor: Actor = Depends(current_actor),
    service: Pacte = Depends(pacte),
) -> list[PlannedLine]:
    """Each line matched to a contract and recorded as a commitment or a payment (``dry_run=false``), or decided
    without recording (the default), with its outcome and reason; the same file twice changes nothing."""
    return await service.accounting_extract(actor, await request.body(), dry_run)


@router.get("/reminders", tags=["contracts"])
async def reminders(
    contract_id: str | None = CONTRACT_QUERY, actor: Actor = Depends(current_actor), service: Pacte = Depends(pacte)
) -> list[dict[str, Any]]:
    return await service.reminders(actor, contract_id)


@router.post(
    "/imports",
    response_model=ImportReport,
    tags=["contracts"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "JSON lines: one dated fact a line (see the README, 'Taking over contracts under way')",
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        }
    },
)
async def import_contracts(
    request: Request,
    dry_run: bool = Query(default=False, description="Decide every contract as the import would; record nothing"),
    actor: Actor = Depends(current_actor),
    service: Pacte = Depends(pacte),
) -> ImportReport:
    """Reprise de l'existant: contracts under way, each with its whole history, recorded in one go per contract
    (all or nothing). A préfet imports the contracts of his départements; the same file again changes nothing.
    With `dry_run=true`, the report says what the import would do, contract by contract, and nothing is recorded."""
    return await service.import_file(actor, await request.body(), dry_run=dry_run)
