"""Exports of the events, streamed: JSON lines or CSV, of one contract or of the whole store."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from domain.actors import Actor
from pacte.api.deps import CONTRACT_QUERY, current_actor, pacte
from pacte.api.errors import EXPORT_PROBLEMS
from pacte.service.exports import csv_lines, jsonl_lines
from pacte.service.facade import Pacte

router = APIRouter(tags=["audit"])
POSITION = "X-Export-Position"  # up to where the export goes: what was committed when it was asked for


class JSONLinesResponse(StreamingResponse):
    media_type = "application/x-ndjson"


class CSVResponse(StreamingResponse):
    media_type = "text/csv"


@router.get("/exports/events.jsonl", response_class=JSONLinesResponse, responses=EXPORT_PROBLEMS)
async def export_jsonl(
    contract_id: str | None = CONTRACT_QUERY, actor: Actor = Depends(current_actor), service: Pacte = Depends(pacte)
) -> StreamingResponse:
    export = await service.export(actor, contract_id)
    return JSONLinesResponse(jsonl_lines(export.rows), headers={POSITION: export.position})


@router.get("/exports/events.csv", response_class=CSVResponse, responses=EXPORT_PROBLEMS)
async def export_csv(
    contract_id: str | None = CONTRACT_QUERY, actor: Actor = Depends(current_actor), service: Pacte = Depends(pacte)
) -> StreamingResponse:
    export = await service.export(actor, contract_id)
    return CSVResponse(csv_lines(export.rows), headers={POSITION: export.position})
