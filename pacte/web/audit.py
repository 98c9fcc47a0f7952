"""The auditors' pages: a contract's timeline on both time axes, its state as of a date (as known then or now),
what changed between two dates, the store's verification and anchor, and the exports to download."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from domain.business_time import PARIS
from domain.deadlines import Standing, deadline_standings
from domain.errors import DomainError
from pacte.service.exports import csv_lines, jsonl_lines
from pacte.service.facade import policy_now
from pacte.web.formats import typed_date
from pacte.web.messages import in_french
from pacte.web.rendering import ROOT, render, service
from pacte.web.session import Person, check_csrf, person

router = APIRouter()


def _date(value: str | None, field: str) -> date | None:
    if not value:
        return None
    return typed_date(value, field)


@router.get("/contrats/{contract_id}/historique", response_class=HTMLResponse)
async def history(contract_id: str, request: Request, who: Person = Depends(person)) -> HTMLResponse:
    pacte = service(request)
    state = await pacte.contract(who.actor, contract_id)
    timeline = await pacte.timeline(who.actor, contract_id, live_version=state.version)
    return render(
        request,
        "history.html",
        f"Historique — {state.territory_name}",
        section="contrats",
        breadcrumb=[
            ("Contrats", f"{ROOT}/contrats"),
            (state.territory_name, f"{ROOT}/contrats/{contract_id}"),
            ("Historique", None),
        ],
        state=state,
        timeline=timeline,
        # Each avenant's fact reads as what it changes (the same avenant_changes as the contract page and the forms).
        changes_of=await pacte.avenants(who.actor, contract_id) if state.avenants else {},
        auditor=who.actor.role.value == "auditor",
    )


def _refused(request: Request) -> int:
    """A refused page part: 200 to htmx, which swaps only successes into the page (a user walk typed 32/01/2025 and saw
    nothing at all), 422 to anyone else."""
    return 200 if request.headers.get("HX-Request") == "true" else 422


def _said(error: DomainError) -> str:
    return in_french(error.rule, error.params, error.code) if error.rule else error.message


@router.get("/contrats/{contract_id}/historique/etat", response_class=HTMLResponse)
async def as_of(contract_id: str, request: Request, who: Person = Depends(person)) -> HTMLResponse:
    """The state on a date (business time), as known now or on ``connu_le`` (record time): a page part for htmx."""
    query = request.query_params
    try:
        on = _date(query.get("date"), "date") or datetime.now(PARIS).date()
        known = _date(query.get("connu_le"), "connu_le")
        state = await service(request).as_of(who.actor, contract_id, on, known)
    except DomainError as error:
        return render(request, "_as_of.html", "État à date", _refused(request), error=_said(error), on=None, state=None)
    # Counted as every page counts them: the domain's standings on that day (missed and not met; met late apart).
    standings = deadline_standings(state, policy_now(), on)
    missed = sum(1 for d in standings if d.standing is Standing.MISSED)
    met_late = sum(1 for d in standings if d.standing is Standing.MET_LATE)
    return render(
        request,
        "_as_of.html",
        "État à date",
        on=on,
        known=known,
        state=state,
        missed=missed,
        met_late=met_late,
        error=None,
    )


@router.get("/contrats/{contract_id}/historique/changements", response_class=HTMLResponse)
async def changes(contract_id: str, request: Request, who: Person = Depends(person)) -> HTMLResponse:
    query = request.query_params
    try:
        start = _date(query.get("du"), "du")
        end = _date(query.get("au"), "au")
        if start is None or end is None:
            raise DomainError("du, au: two dates", field="du", code="invalid_value", rule="audit.two_dates")
        found = await service(request).changes(who.actor, contract_id, start, end)
    except DomainError as error:
        return render(request, "_changes.html", "Changements", _refused(request), error=_said(error), found=None)
    return render(request, "_changes.html", "Changements", found=found, start=start, end=end, error=None)


@router.get("/audit", response_class=HTMLResponse)
async def audit_home(request: Request, who: Person = Depends(person)) -> HTMLResponse:
    if who.actor.role.value != "auditor":
        raise DomainError(
            "actor.role: audits and exports are for auditors",
            field="actor.role",
            code="forbidden",
            rule="role.auditors_only",
        )
    return render(request, "audit.html", "Audit du registre", section="audit", report=None)


@router.post("/audit/verification", response_class=HTMLResponse)
async def verify(
    request: Request, who: Person = Depends(person), _: dict[str, str] = Depends(check_csrf)
) -> HTMLResponse:
    report = await service(request).verify(who.actor)
    return render(request, "_verify.html", "Vérification", report=report)


@router.get("/audit/ancre.json")
async def anchor(request: Request, who: Person = Depends(person)) -> Response:
    taken = await service(request).anchor(who.actor)
    return Response(
        taken.model_dump_json(indent=2),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="pacte-ancre.json"'},
    )


@router.get("/exports/evenements.{suffix}")
async def export(suffix: str, request: Request, who: Person = Depends(person)) -> Response:
    contract_id = request.query_params.get("contrat") or None
    export = await service(request).export(who.actor, contract_id)  # auditors only: checked before anything is sent
    rows = export.rows
    name = f"pacte-{contract_id or 'registre'}.{suffix}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"', "X-Export-Position": export.position}
    if suffix == "csv":
        return StreamingResponse(csv_lines(rows), media_type="text/csv; charset=utf-8", headers=disposition)
    if suffix == "jsonl":
        return StreamingResponse(jsonl_lines(rows), media_type="application/x-ndjson", headers=disposition)
    raise DomainError("suffix: csv or jsonl", field="suffix", code="not_found", rule="export.unknown_format")
