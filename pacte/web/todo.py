"""*À traiter*: where each person lands after signing in — the acts waiting for them within their scope (a deliberation
to record, a signature, a committee review, a report, a renewal to propose, an avenant to sign), each with its due
date and lateness, one click from its form. The acts come from the domain (``domain.todo``); this page keeps those
the person's role and scope may do, as the decider would judge them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from domain.actors import Role
from domain.business_time import PARIS
from domain.rules.parties import party_of
from domain.todo import waiting_acts
from pacte.service.facade import may_do, policy_now
from pacte.web.forms import FORMS, SLUGS
from pacte.web.rendering import ROOT, render, service
from pacte.web.session import Person, person

router = APIRouter()
SIGNS_FOR = {"etat": "pour l'État", "collectivite": "pour la collectivité"}


# The roles that act on contracts: each has an *À traiter* (an auditor changes nothing, an administrator runs Pacte).
ACTING = frozenset({Role.PREFET, Role.COLLECTIVITE, Role.COMMISSAIRE})


async def waiting_for(request: Request, who: Person) -> list[dict[str, Any]]:
    """The acts waiting for this person, the most late first, each with its form's link."""
    today = datetime.now(PARIS).date()
    rows: list[dict[str, Any]] = []
    for state in await service(request).to_do(who.actor):
        for act in waiting_acts(state, policy_now(), today):
            if not may_do(act.kind, who.actor, state.contract_id):
                continue
            if act.party is not None and act.party is not party_of(who.actor):
                continue  # the other party's signature waits for them, not for this person
            # The form opens on this act: its avenant, its year, its party (found by a user walk: every committee
            # of the list opened on the same year, and a signature with no party chosen).
            party = act.party.value if act.party and not act.missed else None  # a missed renewal's remedy signs nothing
            asked = {"avenant_id": act.avenant_id, "year": act.year, "party": party}
            query = urlencode({k: v for k, v in asked.items() if v is not None})
            title = FORMS[act.kind].title
            rows.append(
                {
                    "contract_id": state.contract_id,
                    "territory_name": state.territory_name,
                    "title": f"{title} ({SIGNS_FOR[act.party.value]})" if act.party and not act.missed else title,
                    "href": f"{ROOT}/contrats/{state.contract_id}/actes/{SLUGS[act.kind]}"
                    + (f"?{query}" if query else ""),
                    "act": act,
                }
            )
    rows.sort(key=lambda r: (r["act"].due is None, -r["act"].late_days, r["act"].due or today, r["territory_name"]))
    return rows


@router.get("/a-traiter", response_class=HTMLResponse)
async def to_do(request: Request, who: Person = Depends(person)) -> HTMLResponse:
    rows = await waiting_for(request, who)
    return render(
        request,
        "todo.html",
        "À traiter",
        section="a-traiter",
        rows=rows,
        late=sum(1 for r in rows if r["act"].late_days > 0),
    )
