"""The pages everyone reads: the list of contracts, one contract, the dashboard, the accessibility statement."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from domain.actors import Role
from domain.axes import Axis
from domain.business_time import PARIS
from domain.deadlines import Standing, deadline_standings
from domain.lifecycle import possible_now
from domain.money_trail import trail
from domain.state import ContractState, Status
from pacte.service.facade import may_do, policy_now
from pacte.web import charts
from pacte.web.formats import KINDS, REGIONS, STATUSES
from pacte.web.forms import FORMS, SLUGS, YEARS
from pacte.web.messages import TRAIL_GAPS
from pacte.web.rendering import ROOT, render, service
from pacte.web.session import Person, person

router = APIRouter()
STEPS = ["Proposé", "Délibéré", "Signé", *(f"Exécution {y}" for y in YEARS), "Clôture"]


@router.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse(f"{ROOT}/a-traiter", status_code=303)


@router.get("/contrats", response_class=HTMLResponse)
async def contracts(request: Request, who: Person = Depends(person)) -> HTMLResponse:
    query = request.query_params
    filters = {name: query.get(name, "") for name in ("statut", "type", "region", "annee", "en_retard")}
    rows = await service(request).summaries(who.actor)
    policy, today = policy_now(), datetime.now(PARIS).date()
    for row in rows:
        # Missed and not met, as the contract's page and the dashboard count them (the domain's one list).
        standings = deadline_standings(ContractState.model_validate(row["state"]), policy, today)
        row["missed"] = sum(1 for d in standings if d.standing is Standing.MISSED)
        row["region_name"] = REGIONS.get(row["region"], row["region"])
    counts = Counter(row["status"] for row in rows)
    kept = [
        row
        for row in rows
        if (not filters["statut"] or row["status"] == filters["statut"])
        and (not filters["type"] or row["kind"] == filters["type"])
        and (not filters["region"] or row["region"] == filters["region"])
        and (not filters["annee"] or str(row["current_year"]) == filters["annee"])
        and (not filters["en_retard"] or row["missed"] > 0)
    ]
    regions = sorted({row["region"] for row in rows})
    return render(
        request,
        "contracts.html",
        "Contrats",
        section="contrats",
        rows=kept,
        filtered=any(filters.values()),
        filters=filters,
        counts=[(s, counts[s]) for s in STATUSES if counts[s]],
        selects=[
            ("statut", "Statut", [(s, label) for s, label in STATUSES.items() if s != "NONE"]),
            ("type", "Type", list(KINDS.items())),
            ("region", "Région", [(r, REGIONS.get(r, r)) for r in regions]),
            ("annee", "Année en cours", [(str(y), str(y)) for y in YEARS]),
        ],
    )


def _step(state: ContractState) -> dict[str, Any]:
    """Where the contract stands on proposé → délibéré → signé → exécution 2024…2027 → clôture."""
    if state.status in (Status.PROPOSED, Status.NEGOTIATING):
        index = 1
    elif state.status is Status.DELIBERATED:
        index = 2
    elif state.status is Status.SIGNED:
        index = 3
    elif state.status in (Status.IN_EXECUTION, Status.SUSPENDED) and state.current_year in YEARS:
        index = 4 + YEARS.index(state.current_year)
    elif state.status in (Status.CLOSING, Status.CLOSED):
        index = len(STEPS)
    else:
        index = 3 if state.signatures else 1
    title = STEPS[index - 1]
    if state.status in (Status.SUSPENDED, Status.TERMINATED):
        title += f" ({STATUSES[state.status.value].lower()})"
    return {
        "index": index,
        "total": len(STEPS),
        "title": title,
        "next": STEPS[index] if index < len(STEPS) and state.status is not Status.TERMINATED else None,
    }


def acts_for(who: Person, state: ContractState) -> list[tuple[str, str, bool]]:
    """The forms the signed-in role may fill in now: its role and scope allow it and the contract's stage admits it."""
    acts = []
    for kind, form in FORMS.items():  # every command's form, and its variants (an avenant's fiches actions)
        if not (may_do(form.sends, who.actor, state.contract_id) and possible_now(form.sends, state)):
            continue
        if kind == "SignAvenant" and all(a.concluded for a in state.avenants.values()):
            continue  # nothing to sign
        acts.append(
            (
                f"{ROOT}/contrats/{state.contract_id}/actes/{SLUGS[kind]}",
                form.title,
                form.irreversible or "Rectify" in kind,
            )
        )
    return acts


@router.get("/contrats/{contract_id}", response_class=HTMLResponse)
async def contract(contract_id: str, request: Request, who: Person = Depends(person)) -> HTMLResponse:
    pacte = service(request)
    state = await pacte.contract(who.actor, contract_id)
    # The domain's one list: each deadline once, missed or to come as of today in Paris (the business day).
    deadlines = deadline_standings(state, policy_now(), datetime.now(PARIS).date())
    by_axis = [
        (axis, [a for _, a in sorted(state.actions.items()) if a.axis is axis])
        for axis in Axis
        if any(a.axis is axis for a in state.actions.values())
    ]
    return render(
        request,
        "contract.html",
        f"{state.territory_name} — contrat",
        section="contrats",
        breadcrumb=[("Contrats", f"{ROOT}/contrats"), (state.territory_name, None)],
        state=state,
        step=_step(state),
        acts=acts_for(who, state),
        by_axis=by_axis,
        signatures={p.value: s for p, s in state.signatures.items()},
        deadlines=deadlines,
        changes_of=await pacte.avenants(who.actor, contract_id) if state.avenants else {},
        trail=trail(state),
        trail_gaps=TRAIL_GAPS,
    )


@router.get("/tableau-de-bord", response_class=HTMLResponse)
async def dashboard(request: Request, who: Person = Depends(person)) -> HTMLResponse:
    figures = await service(request).dashboard(who.actor)
    years = sorted({f.year for f in figures.axis_years})
    return render(
        request,
        "dashboard.html",
        "Tableau de bord",
        section="tableau",
        figures=figures,
        national=who.actor.role is Role.AUDITOR,
        charts=[(year, charts.bars([f for f in figures.axis_years if f.year == year])) for year in years],
    )


@router.get("/accessibilite", response_class=HTMLResponse)
async def accessibility(request: Request) -> HTMLResponse:
    return render(request, "accessibility.html", "Déclaration d'accessibilité")


@router.get("/mentions-legales", response_class=HTMLResponse)
async def legal_notice(request: Request) -> HTMLResponse:
    return render(request, "legal.html", "Mentions légales")


@router.get("/donnees-personnelles", response_class=HTMLResponse)
async def privacy(request: Request) -> HTMLResponse:
    return render(request, "privacy.html", "Données personnelles")
