"""The operators' forms: each posts to the service layer's command, exactly as the API does (same rules, roles and
scopes). A refusal is shown next to the field it names, with nothing written; an irreversible act is confirmed on a
page of its own first."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from domain.actors import Role
from domain.business_time import business_date
from domain.errors import DomainError
from domain.state import ContractState
from domain.territories import REFERENCE_TERRITORIES
from pacte.service.catalogue import ProposeBody, command_body_models
from pacte.service.facade import authorize
from pacte.web import avenant_view
from pacte.web.drafts import restored
from pacte.web.formats import euros, typed_date
from pacte.web.forms import (
    FORMS,
    KIND_BY_SLUG,
    SLUGS,
    FormRefused,
    Group,
    Input,
    body_of,
    fields_for,
    inputs_of,
    propose_fields,
    where,
)
from pacte.web.messages import in_french
from pacte.web.rendering import ROOT, flash, render, service
from pacte.web.session import Person, check_csrf, current, person

router = APIRouter()
KEY_LABELS = {"action_id": "Fiche action", "avenant_id": "Avenant"}
IDEMPOTENCY_FIELD = "cle"  # one per form shown: sending the same form twice records it once


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a posted form: the input (or group) it belongs to, in French, and the rule's technical
    sentence (English, like the API and the logs)."""

    at: str
    sentence: str
    detail: str
    anchor: str = ""  # the id of what it belongs to on the page (an input, or a group's fieldset)
    label: str = ""  # what the page calls it (the input's label, after its group's legend), named in the summary


def _placed(fields: list[Input | Group], at: str, sentence: str, detail: str) -> Problem:
    groups = {g.name for g in fields if isinstance(g, Group)}
    anchor = f"{'groupe' if at in groups else 'champ'}-{at.replace('.', '-')}" if at else ""
    return Problem(at, sentence, detail, anchor, _label(fields, at))


def _label(fields: list[Input | Group], at: str) -> str:
    """The name a person reads for the input (or group) ``at``: its label, after its group's legend ("Montants par
    année — 2024 — État"); the key chosen first (a fiche, an avenant) by its own label."""
    for item in fields:
        if isinstance(item, Group):
            if item.name == at:
                return item.legend
            for inner in item.inputs:
                if inner.name == at:
                    return f"{item.legend} — {inner.label}"
        elif item.name == at:
            return item.label
    return KEY_LABELS.get(at, "")


def _problems(error: Exception, fields: list[Input | Group], key: str | None = None) -> list[Problem]:
    """Every problem a refusal holds, each placed at its input: values that could not be read, the schema's refusals
    (all of them, not the first), or the rule the contract refused (its rule id and parameters in French)."""
    if isinstance(error, FormRefused):
        return [p for refused in error.refusals for p in _problems(refused, fields, key)]
    if isinstance(error, ValidationError):
        found = []
        for problem in error.errors():
            name = ".".join(str(p) for p in problem["loc"])
            sentence = in_french(problem["type"], problem.get("ctx") or {}, "invalid_value")
            found.append(_placed(fields, where(fields, name) or "", sentence, f"{name}: {problem['msg']}"))
        return found
    if isinstance(error, DomainError):  # every refusal the contract found, each at its input
        return [
            _placed(
                fields,
                key if key and one.field == key else where(fields, one.field) or "",
                in_french(one.rule, one.params, one.code),
                one.message,
            )
            for one in error.all
        ]
    raise error


def _unreadable(refused: FormRefused, model: type[BaseModel], fields: list[Input | Group]) -> list[Problem]:
    """The values that could not be read, then what the command's schema says of the rest (a form that cannot be
    read is still checked whole: its agent sees every problem at once) — except what follows from a value already
    refused (that value "missing", the list holding it "too short")."""
    problems = _problems(refused, fields)
    read = {p.at for p in problems}
    try:
        model.model_validate(refused.partial)
    except ValidationError as error:
        for problem in _problems(error, fields):
            # What the schema names (the list of indicators), not where the page shows it (a list of several inputs is
            # said in the summary): a list holding a value already refused is not refused again.
            named = problem.detail.split(":", 1)[0]
            if (problem.at and problem.at in read) or any(r == named or r.startswith(named + ".") for r in read):
                continue
            problems.append(problem)
    return problems


def _refused(problems: list[Problem]) -> dict[str, str]:
    """Each input's French sentences, shown at the input."""
    errors: dict[str, str] = {}
    for problem in problems:
        if problem.at and problem.sentence not in errors.get(problem.at, ""):
            errors[problem.at] = (
                f"{errors[problem.at]} {problem.sentence}" if problem.at in errors else problem.sentence
            )
    return errors


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
    problems: list[Problem] | None = None,
    restored_draft: bool = False,
) -> HTMLResponse:
    form = FORMS[kind]
    who = current(request)
    items = fields_for(form, state, key_value, who.actor if who else None)  # a choice offers only what they may
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
        problems=problems or [],
        restored=restored_draft,
        explanation=form.explanation,
        irreversible=form.irreversible,
        action=action,
        key_name=form.key,
        key_value=key_value,
        key_label=KEY_LABELS.get(form.key or "", ""),
        key_choices=_key_choices(kind, state),
        # A fiche's edit form is filled from the fiche: it is chosen first (a GET), then the form opens filled — never
        # an empty form that would refuse every field (found by a user walk: the button opened it so).
        key_first=form.key == "action_id",
        avenants=avenant_view.shown_with(kind, state, key_value),
        signature_dues=avenant_view.signature_dues(kind, state, key_value),
        signing_contract=kind == "SignContract",  # nobody signs unseen: the fiches and their money
    )


@router.get("/contrats/{contract_id}/actes/{slug}", response_class=HTMLResponse)
async def show_form(contract_id: str, slug: str, request: Request, who: Person = Depends(person)) -> HTMLResponse:
    kind = _kind(slug)
    state = await service(request).contract(who.actor, contract_id)
    form = FORMS[kind]
    authorize(form.sends, who.actor, contract_id)  # a form only for who may do its act: others get a 403 page
    draft = await restored(request, _sub(who))
    key_value = request.query_params.get(form.key or "", "")
    prefill = avenant_view.renewal_prefill(state) if kind == "Renew" else {}  # this year's amounts, to change
    # A link may name what the form is about beyond its key (À traiter: the committee's year, the signing party).
    names = {i.name for i in inputs_of(fields_for(form, state, key_value, who.actor))} - {form.key}
    prefill |= {k: v for k, v in request.query_params.items() if k in names}
    return _page(request, kind, state, key_value, draft or prefill, restored_draft=draft is not None)


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
    authorize(form.sends, who.actor, contract_id)
    key_value = request.query_params.get(form.key or "", "") or posted.get(form.key or "", "")
    fields = fields_for(form, state, key_value, who.actor)
    values = {k: v for k, v in posted.items() if k not in ("confirme", "modifier")}
    if "modifier" in posted:
        return _page(request, kind, state, key_value, values)
    params = {"contract_id": contract_id, **({form.key: key_value} if form.key and form.key_in_path else {})}
    key = posted.get(IDEMPOTENCY_FIELD) or None
    try:
        if form.key and not key_value:
            raise DomainError(f"{form.key}: required", field=form.key, code="invalid_value", rule="value.required")
        try:
            body = body_of(fields, posted)
        except FormRefused as unreadable:
            problems = _unreadable(unreadable, command_body_models()[form.sends], fields)
            return _refusal_page(request, kind, state, key_value, values, problems)
        if form.unchanged is not None and form.unchanged(state, body):
            flash(request, "info", f"Rien n'a changé : rien n'a été enregistré ({form.title.lower()}).")
            return RedirectResponse(f"{ROOT}/contrats/{contract_id}", status_code=303)
        if form.irreversible and posted.get("confirme") != "oui":
            # Confirmed only once the contract would take it: the dry run of the rules, nothing written.
            await pacte.check(who.actor, form.sends, params, body, key)
            return _confirm(request, kind, state, key_value, fields, values)
        answer = await pacte.command(who.actor, form.sends, params, body, key)
    except (DomainError, ValidationError) as error:
        status = 403 if isinstance(error, DomainError) and error.code in ("forbidden", "out_of_scope") else 422
        problems = _problems(error, fields, form.key)
        return _refusal_page(request, kind, state, key_value, values, problems, status)
    recorded = len(answer.events)
    if recorded == 0:
        # Nothing new: the form came back as it was (or the same request twice); the contract records nothing.
        flash(request, "info", f"Rien n'a changé : rien n'a été enregistré ({form.title.lower()}).")
        return RedirectResponse(f"{ROOT}/contrats/{contract_id}", status_code=303)
    flash(
        request,
        "success",
        f"{form.title} : enregistré ({recorded} fait{'s' if recorded > 1 else ''} nouveau{'x' if recorded > 1 else ''}).",
    )
    return RedirectResponse(f"{ROOT}/contrats/{contract_id}", status_code=303)


def _refusal_page(
    request: Request,
    kind: str,
    state: ContractState,
    key_value: str,
    values: dict[str, str],
    problems: list[Problem],
    status_code: int = 422,
) -> HTMLResponse:
    return _page(request, kind, state, key_value, values, status_code, _refused(problems), problems)


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
        if item.kind == "date":
            # Never hidden: an empty date of the fact is today's, and the confirmation says which day that is.
            day = typed_date(value, item.name) if value else business_date(datetime.now(UTC))
            summary.append((item.label, day.strftime("%d/%m/%Y") if value else f"aujourd'hui ({day:%d/%m/%Y})"))
        elif value:
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
        signature_dues=avenant_view.signature_dues(kind, state, key_value),
        signing_contract=kind == "SignContract",  # nobody signs unseen: the fiches and their money
    )


def _action(kind: str, state: ContractState, key_value: str) -> str:
    """Where the form posts: the contract's act, with the fiche or avenant it is about."""
    action = f"{ROOT}/contrats/{state.contract_id}/actes/{SLUGS[kind]}"
    return f"{action}?{FORMS[kind].key}={quote(key_value)}" if key_value else action


def _sub(who: Person) -> str:
    """The person, as their sessions and drafts name them."""
    return who.actor.person.sub if who.actor.person is not None else who.actor.identity


def _kind(slug: str) -> str:
    kind = KIND_BY_SLUG.get(slug)
    if kind is None:
        raise DomainError(f"slug: no form {slug[:40]!r}", field="slug", code="not_found", rule="form.unknown")
    return kind


# -- a préfet proposes a contract -----------------------------------------------------------------------------------


def _territories(who: Person) -> tuple[tuple[str, str], ...]:
    scope = set(who.actor.scope)
    return tuple(
        (t.id, f"{t.name} ({t.id})")
        for t in sorted(REFERENCE_TERRITORIES.values(), key=lambda t: t.name)
        if "*" in scope or scope & set(t.departements)
    )


def _propose_page(
    request: Request, who: Person, values: dict[str, str], status_code: int = 200, **refused: Any
) -> HTMLResponse:
    return render(
        request,
        "propose.html",
        "Proposer un contrat",
        status_code=status_code,
        section="proposer",
        items=propose_fields(_territories(who)),
        values=values,
        errors=refused.get("errors", {}),
        problems=refused.get("problems", []),
        restored=refused.get("restored", False),
    )


@router.get("/contrats/proposer", response_class=HTMLResponse)
async def propose_form(request: Request, who: Person = Depends(person)) -> HTMLResponse:
    if who.actor.role is not Role.PREFET:
        raise DomainError(
            "actor.role: contracts are proposed by a préfet",
            field="actor.role",
            code="forbidden",
            rule="role.prefet_only",
        )
    draft = await restored(request, _sub(who))
    values = {**(draft or {}), IDEMPOTENCY_FIELD: secrets.token_urlsafe(16)}
    return _propose_page(request, who, values, restored=draft is not None)


@router.post("/contrats/proposer", response_class=HTMLResponse)
async def propose(
    request: Request, who: Person = Depends(person), posted: dict[str, Any] = Depends(check_csrf)
) -> Response:
    """The proposal is read like every other command's form (``body_of``: French dates and amounts), then sent as
    the catalogue's ``ProposeBody``."""
    fields = propose_fields(_territories(who))
    values = {i.name: posted.get(i.name, "") for i in inputs_of(fields)}
    try:
        body = ProposeBody.model_validate(body_of(fields, posted))
        answer = await service(request).propose(who.actor, body, posted.get(IDEMPOTENCY_FIELD) or None)
    except FormRefused as unreadable:
        problems = _unreadable(unreadable, ProposeBody, fields)
    except (DomainError, ValidationError) as error:
        problems = _problems(error, fields)
    else:
        flash(request, "success", f"Contrat proposé : plafond annuel {euros(answer.state.annual_ceiling)}.")
        return RedirectResponse(f"{ROOT}/contrats/{answer.contract_id}", status_code=303)
    values[IDEMPOTENCY_FIELD] = secrets.token_urlsafe(16)
    return _propose_page(request, who, values, 422, errors=_refused(problems), problems=problems)
