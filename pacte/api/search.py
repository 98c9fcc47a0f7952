"""Finding a contract among thousands (issue 26, item 4): the contract list filtered, sorted and paged by keyset."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from domain.actors import Actor
from domain.limits import STORABLE_TEXT
from pacte.api.deps import current_actor, pacte
from pacte.service.answers import Problem
from pacte.service.facade import Pacte
from pacte.service.search import MAX_LIMIT, ContractPage, ContractQuery, Sort

router = APIRouter(tags=["contracts"])


@router.get("/search/contracts", response_model=ContractPage, responses={422: {"model": Problem}})
async def search_contracts(
    q: str = Query(
        default="",
        max_length=100,
        pattern=STORABLE_TEXT,
        description="Part of the territory's name (accents ignored), or its id",
    ),
    status: str | None = Query(default=None, max_length=20, pattern=r"^[A-Z_]+$"),
    kind: str | None = Query(default=None, max_length=20, pattern=r"^[a-z]+$"),
    region: str | None = Query(default=None, pattern=r"^\d{2}$"),
    departement: str | None = Query(default=None, pattern=r"^[0-9][0-9AB][0-9]?$"),
    year: int | None = Query(default=None, ge=2000, le=2100),
    late: bool = Query(default=False, description="Only the contracts with a deadline missed today"),
    sort: Sort = "territoire",
    descending: bool = False,
    limit: int = Query(default=50, ge=1, le=MAX_LIMIT),
    after: str | None = Query(default=None, max_length=500, pattern=r"^[A-Za-z0-9_-]+$", description="`next`"),
    actor: Actor = Depends(current_actor),
    service: Pacte = Depends(pacte),
) -> ContractPage:
    """The contracts of the caller's scope matching every filter given, `limit` at a time in the order asked (ties
    broken by contract_id); the next page is asked with `after=<next>` and the same filters and order."""
    query = ContractQuery(
        text=q,
        status=status,
        kind=kind,
        region=region,
        departement=departement,
        year=year,
        late=late,
        sort=sort,
        descending=descending,
        limit=limit,
        after=after,
    )
    return await service.search_contracts(actor, query)
