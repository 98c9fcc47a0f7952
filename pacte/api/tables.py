"""Exports for people (issue 26, item 3): the contracts, the fiches' money by year and financeur, the deadlines, the
committee reviews and execution reports, as CSV a French spreadsheet opens as it is (`;`, UTF-8 BOM, JJ/MM/AAAA,
amounts "1500000,00"). Anyone reads those of the contracts of their scope."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Response

from domain.actors import Actor
from pacte.api.deps import CONTRACT_QUERY, current_actor, pacte
from pacte.api.errors import EXPORT_PROBLEMS
from pacte.service.facade import Pacte
from pacte.service.tables import french_csv, people_table

router = APIRouter(tags=["exports"])
# A refusal is JSON all the same (pacte/api/errors.py: EXPORT_PROBLEMS), a missing contract too.
REFUSALS = EXPORT_PROBLEMS | {
    404: {
        "description": "No such contract",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
}


class FrenchCSVResponse(Response):
    media_type = "text/csv"  # Starlette adds "; charset=utf-8"


@router.get("/exports/tables/{name}.csv", response_class=FrenchCSVResponse, responses=REFUSALS)
async def people_csv(
    name: Literal["contracts", "actions", "deadlines", "reviews"],
    contract_id: str | None = CONTRACT_QUERY,
    actor: Actor = Depends(current_actor),
    service: Pacte = Depends(pacte),
) -> Response:
    """One table for people: `contracts` (one row a contract), `actions` (a fiche's amount for one year and one
    financeur a row, in euros), `deadlines` (the domain's list, each deadline once), `reviews` (committee reviews and
    execution reports). `;`-separated, with a UTF-8 BOM, dates JJ/MM/AAAA, amounts as French decimal numbers."""
    table = await people_table(service, actor, name, contract_id)
    return FrenchCSVResponse(
        french_csv(table), headers={"Content-Disposition": f'attachment; filename="{table.filename}"'}
    )
