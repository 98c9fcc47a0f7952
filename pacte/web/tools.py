"""The agents' daily tools (issue 26): exports a French spreadsheet opens, finding a contract among thousands, and
taking over contracts from a file in the browser."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from domain.departements_data import DEPARTEMENTS
from pacte.service.search import ContractQuery
from pacte.service.tables import french_csv, people_table
from pacte.web.formats import KINDS, REGIONS, STATUSES
from pacte.web.forms import YEARS
from pacte.web.rendering import render, service
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


# The list's query, in the page's words (French parameter names, kept by every link it makes).
LIST_PARAMETERS = ("q", "statut", "type", "region", "departement", "annee", "en_retard", "tri", "ordre")
SORT_LABELS = {
    "territoire": "Territoire",
    "statut": "Statut",
    "region": "Région",
    "annee": "Année en cours",
    "plafond": "Plafond annuel",
    "activite": "Dernier fait",
}
PAGE_SIZE = 50


def _query(asked: dict[str, str]) -> ContractQuery:
    """What the list's form asks, as the service's query; a value the form never offers is left out, not refused."""
    fields = {
        "text": asked.get("q", "")[:100],
        "status": asked.get("statut") if asked.get("statut") in STATUSES else None,
        "kind": asked.get("type") if asked.get("type") in KINDS else None,
        "region": asked.get("region") if asked.get("region") in REGIONS else None,
        "departement": asked.get("departement") if asked.get("departement") in {d[0] for d in DEPARTEMENTS} else None,
        "year": int(asked["annee"]) if asked.get("annee", "").isdigit() and int(asked["annee"]) in YEARS else None,
        "late": bool(asked.get("en_retard")),
        "sort": asked.get("tri") if asked.get("tri") in SORT_LABELS else "territoire",
        "descending": asked.get("ordre") == "desc",
        "limit": PAGE_SIZE,
        "after": asked.get("apres") or None,
    }
    try:
        return ContractQuery.model_validate(fields)
    except ValidationError:  # a cursor of another shape: the first page
        return ContractQuery.model_validate(fields | {"after": None})


@router.get("/contrats", response_class=HTMLResponse)
async def contracts(request: Request, who: Person = Depends(person)) -> HTMLResponse:
    """Every contract of the person's scope, searched, filtered, sorted and paged (keyset: *Page suivante*)."""
    asked = {name: request.query_params.get(name, "") for name in (*LIST_PARAMETERS, "apres")}
    query = _query(asked)
    page = await service(request).search_contracts(who.actor, query)
    kept = {name: asked[name] for name in LIST_PARAMETERS if asked[name]}
    filtered = any(asked[name] for name in ("q", "statut", "type", "region", "departement", "annee", "en_retard"))
    return render(
        request,
        "contracts.html",
        "Contrats",
        section="contrats",
        page=page,
        rows=[row.model_dump() | {"region_name": REGIONS.get(row.region, row.region)} for row in page.contracts],
        filtered=filtered,
        filters=asked,
        counts=[(s, page.by_status[s]) for s in STATUSES if page.by_status.get(s)],
        selects=[
            ("statut", "Statut", [(s, label) for s, label in STATUSES.items() if s != "NONE"]),
            ("type", "Type", list(KINDS.items())),
            ("region", "Région", sorted(REGIONS.items(), key=lambda r: r[1])),
            ("departement", "Département", [(code, f"{code} – {name}") for code, _, name in DEPARTEMENTS]),
            ("annee", "Année en cours", [(str(y), str(y)) for y in YEARS]),
        ],
        sorts=list(SORT_LABELS.items()),
        first_url="?" + urlencode(kept) if query.after else None,
        next_url="?" + urlencode(kept | {"apres": page.next}) if page.next else None,
    )
