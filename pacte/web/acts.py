"""The operators' forms: each posts to the service layer's command, exactly as the API does (same rules, roles and
scopes). A refusal is shown next to the field it names, with nothing written; an irreversible act is confirmed on a
page of its own first."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from domain.actors import Role
from domain.errors import DomainError
from domain.money import MoneyFormatError, parse_euros
from domain.state import ContractState
from domain.territories import REFERENCE_TERRITORIES
from pacte.service.catalogue import ProposeBody
from pacte.web import avenant_view
from pacte.web.formats import euros
from pacte.web.forms import FORMS, KIND_BY_SLUG, SLUGS, Group, Input, body_of, fields_for, inputs_of, where
from pacte.web.messages import in_french
from pacte.web.rendering import ROOT, flash, render, service
from pacte.web.session import Person, check_csrf, person

router = APIRouter()
KEY_LABELS = {"action_id": "Fiche action", "avenant_id": "Avenant"}
IDEMPOTENCY_FIELD = "cle"  # one per form shown: sending the same form twice records it once


def _refusal(error: Exception, fields: list[Input | Group]) -> tuple[dict[str, str], str, str]:
    """Where to show a refusal, its French sentence and the technical detail."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        sentence, detail = in_french("invalid_value", first["type"]), f"{name}: {first['msg']}"
    elif isinstance(error, DomainError):
        name, sentence, detail = error.field or "", in_french(error.code), error.message
    else:
        raise error
    at = where(fields, name)
    return ({at: sentence} if at else {}), sentence, detail


def _key_choices(kind: str, state: ContractState) -> list[tuple[str, str]]:
    if FORMS[kind].key == "action_id":
        return [(a, f"{a} — {action.title}") for a, action in sorted(state.actions.items())]
    if FORMS[kind].key == "avenant_id":
        return [(a, f"{a} ({avenant.year})") for a, avenant in sorted(state.avenants.items()) if not avenant.concluded]
    return []


def _page(
    request: Request,
    kind: str,
    state: ContractState,
    key_value: str,
    values: dict[str, str],
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    refusal: str = "",
    detail: str = "",
) -> HTMLResponse:
    form = FORMS[kind]
    items = fields_for(form, state, key_value)
    action = _action(kind, state, key_value)
    return render(
        request,
        "form.html",
        f"{form.title} — {state.territory_name}",
        status_code=status_code,
        section="contrats",
        breadcrumb=[
            ("Contrats", f"{ROOT}/contrats"),
            (state.territory_name, f"{ROOT}/contrats/{state.contract_id}"),
            (form.title, None),
        ],
        form_title=form.title,
        state=state,
        items=items,
        values={**values, IDEMPOTENCY_FIELD: secrets.token_urlsafe(16)},
        errors=errors or {},
        refusal=refusal,
        detail=detail,
        explanation=form.explanation,
        irreversible=form.irreversible,
        action=action,
        key_name=form.key,
        key_value=key_value,
        key_label=KEY_LABELS.get(form.key or "", ""),
        key_choices=_key_choices(kind, state),
        avenants=avenant_view.shown_with(kind, state, key_value),
    )


@router.get("/contrats/{contract_id}/actes/{slug}", response_class=HTMLResponse)
async def show_form(contract_id: str, slug: str, request: Request, who: Person = Depends(person)) -> HTMLResponse:
    kind = _kind(slug)
    state = await service(request).contract(who.actor, contract_id)
    form = FORMS[kind]
    prefill = avenant_view.renewal_prefill(state) if kind == "Renew" else {}  # this year's amounts, to change
    return _page(request, kind, state, request.query_params.get(form.key or "", ""), prefill)


@router.post("/contrats/{contract_id}/actes/{slug}", response_class=HTMLResponse)
async def submit(
    contract_id: str,
    slug: str,
    request: Request,
    who: Person = Depends(person),
    posted: dict[str, Any] = Depends(check_csrf),
) -> Response:
    kind = _kind(slug)
    pacte = service(request)
    state = await pacte.contract(who.actor, contract_id)
    form = FORMS[kind]
    key_value = request.query_params.get(form.key or "", "") or posted.get(form.key or "", "")
    fields = fields_for(form, state, key_value)
    values = {k: v for k, v in posted.items() if k not in ("confirme", "modifier")}
    if "modifier" in posted:
        return _page(request, kind, state, key_value, values)
    try:
        body = body_of(fields, posted)
        if form.key and not key_value:
            raise DomainError(f"{form.key}: required", field=form.key, code="invalid_value")
        if form.irreversible and posted.get("confirme") != "oui":
            return _confirm(request, kind, state, key_value, fields, values)
        params = {"contract_id": contract_id, **({form.key: key_value} if form.key else {})}
        answer = await pacte.command(who.actor, kind, params, body, posted.get(IDEMPOTENCY_FIELD) or None)
    except (DomainError, ValidationError) as error:
        errors, sentence, detail = _refusal(error, fields)
        if form.key and isinstance(error, DomainError) and error.field == form.key:
            errors[form.key] = sentence
        status = 403 if isinstance(error, DomainError) and error.code in ("forbidden", "out_of_scope") else 422
        return _page(request, kind, state, key_value, values, status, errors, sentence, detail)
    recorded = len(answer.events)
    flash(
        request,
        "success",
        f"{form.title} : enregistré ({recorded} fait{'s' if recorded > 1 else ''} nouveau{'x' if recorded > 1 else ''}).",
    )
    return RedirectResponse(f"{ROOT}/contrats/{contract_id}", status_code=303)


def _confirm(
    request: Request,
    kind: str,
    state: ContractState,
    key_value: str,
    fields: list[Input | Group],
    values: dict[str, str],
) -> HTMLResponse:
    form = FORMS[kind]
    summary = [(KEY_LABELS[form.key], key_value)] if form.key else []
    for item in inputs_of(fields):
        value = values.get(item.name, "").strip()
        if value:
            shown = dict(item.options).get(value, value) if item.kind == "select" else value
            summary.append((item.label, shown))
    action = _action(kind, state, key_value)
    return render(
        request,
        "confirm.html",
        f"Confirmer : {form.title.lower()} — {state.territory_name}",
        section="contrats",
        form_title=form.title,
        explanation=form.explanation,
        state=state,
        summary=summary,
        values=values,
        action=action,
        avenants=avenant_view.shown_with(kind, state, key_value),
    )


def _action(kind: str, state: ContractState, key_value: str) -> str:
    """Where the form posts: the contract's act, with the fiche or avenant it is about."""
    action = f"{ROOT}/contrats/{state.contract_id}/actes/{SLUGS[kind]}"
    return f"{action}?{FORMS[kind].key}={quote(key_value)}" if key_value else action


def _kind(slug: str) -> str:
    kind = KIND_BY_SLUG.get(slug)
    if kind is None:
        raise DomainError(f"slug: no form {slug[:40]!r}", field="slug", code="not_found")
    return kind


# -- a préfet proposes a contract -----------------------------------------------------------------------------------

PROPOSE_FIELDS = ("territory", "annual_ceiling", "occurred_at")


def _territories(who: Person) -> list[tuple[str, str]]:
    scope = set(who.actor.scope)
    return [
        (t.id, f"{t.name} ({t.id})")
        for t in sorted(REFERENCE_TERRITORIES.values(), key=lambda t: t.name)
        if "*" in scope or scope & set(t.departements)
    ]


def _propose_page(
    request: Request, who: Person, values: dict[str, str], status_code: int = 200, **refused: Any
) -> HTMLResponse:
    items: list[Input | Group] = [
        Input("territory", "Territoire", "select", tuple(_territories(who))),
        Input("annual_ceiling", "Plafond annuel des crédits de l'État", "euros", hint="En euros : 1 500 000,00 €"),
        Input("occurred_at", "Date de la proposition", "date", required=False, hint="Aujourd'hui si vide."),
    ]
    return render(
        request,
        "propose.html",
        "Proposer un contrat",
        status_code=status_code,
        section="proposer",
        items=items,
        values=values,
        errors=refused.get("errors", {}),
        refusal=refused.get("refusal", ""),
        detail=refused.get("detail", ""),
    )


@router.get("/contrats/proposer", response_class=HTMLResponse)
async def propose_form(request: Request, who: Person = Depends(person)) -> HTMLResponse:
    if who.actor.role is not Role.PREFET:
        raise DomainError("actor.role: contracts are proposed by a préfet", field="actor.role", code="forbidden")
    return _propose_page(request, who, {IDEMPOTENCY_FIELD: secrets.token_urlsafe(16)})


@router.post("/contrats/proposer", response_class=HTMLResponse)
async def propose(
    request: Request, who: Person = Depends(person), posted: dict[str, Any] = Depends(check_csrf)
) -> Response:
    values = {k: posted.get(k, "") for k in PROPOSE_FIELDS}
    try:
        try:
            ceiling: Any = parse_euros(values["annual_ceiling"]) if values["annual_ceiling"].strip() else None
        except MoneyFormatError as exc:
            raise DomainError(f"annual_ceiling: {exc}", field="annual_ceiling", code="invalid_value") from None
        body = ProposeBody.model_validate(
            {
                "territory": values["territory"],
                "annual_ceiling": ceiling,
                **({"occurred_at": values["occurred_at"]} if values["occurred_at"] else {}),
            }
        )
        answer = await service(request).propose(who.actor, body, posted.get(IDEMPOTENCY_FIELD) or None)
    except (DomainError, ValidationError) as error:
        items = [Input(name, name) for name in PROPOSE_FIELDS]
        errors, sentence, detail = _refusal(error, list(items))
        values[IDEMPOTENCY_FIELD] = secrets.token_urlsafe(16)
        return _propose_page(request, who, values, 422, errors=errors, refusal=sentence, detail=detail)
    flash(request, "success", f"Contrat proposé : plafond annuel {euros(answer.state.annual_ceiling)}.")
    return RedirectResponse(f"{ROOT}/contrats/{answer.contract_id}", status_code=303)
