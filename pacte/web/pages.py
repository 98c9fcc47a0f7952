"""The pages everyone reads: the list of contracts, one contract, the dashboard, the accessibility statement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from domain.actors import Actor, Role
from domain.axes import Axis
from domain.business_time import PARIS
from domain.deadlines import avenant_signable, avenant_signature_due, deadline_standings
from domain.lifecycle import possible_now
from domain.money_trail import trail
from domain.state import ContractState, Status
from pacte.service.facade import may_do, policy_now
from pacte.web import charts, todo
from pacte.web.formats import STATUSES
from pacte.web.forms import FORMS, SLUGS, YEARS, renewal_choices
from pacte.web.messages import TRAIL_GAPS
from pacte.web.rendering import ROOT, render, service
from pacte.web.session import Person, person

router = APIRouter()
SCOPE_WORDS = {
    Role.AUDITOR: "dans tout le programme",
    Role.PREFET: "dans vos départements",
    Role.COMMISSAIRE: "dans votre région",
    Role.COLLECTIVITE: "de votre collectivité",
}
STEPS = ["Proposé", "Délibéré", "Signé", *(f"Exécution {y}" for y in YEARS), "Clôture"]


# Where each role lands after signing in: the acts waiting for those who act; the figures they may read for an auditor
# (who changes nothing); the access list's tokens for who runs Pacte (who reads no contract).
LANDING = {Role.AUDITOR: "/tableau-de-bord", Role.ADMIN: "/administration/jetons"}


def landing(actor: Actor) -> str:
    return f"{ROOT}{LANDING.get(actor.role, '/a-traiter')}"


@router.get("/", include_in_schema=False)
async def home(who: Person = Depends(person)) -> RedirectResponse:
    return RedirectResponse(landing(who.actor), status_code=303)


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
        if kind in ("SignAvenant", "WithdrawAvenant") and all(a.concluded for a in state.avenants.values()):
            continue  # nothing to sign or withdraw
        if form.key == "action_id" and not state.actions:
            continue  # no fiche to change or remove (the form would offer an empty choice, then refuse it)
        if kind == "Renew" and not renewal_choices(state):
            continue  # no year left to renew
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
    policy, today = policy_now(), datetime.now(PARIS).date()
    deadlines = deadline_standings(state, policy, today)
    # Each avenant still to sign: the last day the decider takes its signatures, and whether it still may be signed.
    signing = {
        avenant_id: {
            "due": avenant_signature_due(avenant, policy),
            "days": (avenant_signature_due(avenant, policy) - today).days,
            "signable": avenant_signable(avenant, state, policy, today),
        }
        for avenant_id, avenant in state.avenants.items()
        if not avenant.concluded
    }
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
        signing=signing,
        changes_of=await pacte.avenants(who.actor, contract_id) if state.avenants else {},
        trail=trail(state),
        trail_gaps=TRAIL_GAPS,
    )


@router.get("/tableau-de-bord", response_class=HTMLResponse)
async def dashboard(request: Request, who: Person = Depends(person)) -> HTMLResponse:
    figures = await service(request).dashboard(who.actor)
    years = sorted({f.year for f in figures.axis_years})
    waiting = await todo.waiting_for(request, who) if who.actor.role in todo.ACTING else None
    return render(
        request,
        "dashboard.html",
        "Tableau de bord",
        section="tableau",
        figures=figures,
        scope=SCOPE_WORDS.get(who.actor.role, "dans votre périmètre"),
        waiting=waiting,
        late=sum(1 for r in waiting or [] if r["act"].late_days > 0),
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
