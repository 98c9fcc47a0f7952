"""The agents' daily tools (issue 26): exports a French spreadsheet opens, finding a contract among thousands, and
taking over contracts from a file in the browser."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from pacte.service.tables import french_csv, people_table
from pacte.web.rendering import service
from pacte.web.session import Person, person

router = APIRouter()
# The file a person downloads → the table it holds.
PEOPLE_TABLES = {
    "contrats.csv": "contracts",
    "fiches-actions.csv": "actions",
    "echeances.csv": "deadlines",
    "comites-et-rapports.csv": "reviews",
}


@router.get("/exports/{file}")
async def people_export(file: str, request: Request, who: Person = Depends(person)) -> Response:
    name = PEOPLE_TABLES.get(file)
    if name is None:
        raise HTTPException(404, "Aucun export de ce nom.")
    contract_id = request.query_params.get("contrat") or None
    table = await people_table(service(request), who.actor, name, contract_id)
    return Response(
        french_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{table.filename}"'},
    )
