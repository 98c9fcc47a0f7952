"""The agents' daily tools (issue 26): exports a French spreadsheet opens, finding a contract among thousands, and
taking over contracts from a file in the browser."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from domain.actors import Role
from domain.departements_data import DEPARTEMENTS
from domain.errors import DomainError, Forbidden
from domain.territories import attempt_of
from pacte.service.answers import ImportReport
from pacte.service.facade import CONTRACT_BY_ID
from pacte.service.search import ContractQuery
from pacte.service.tables import french_csv, people_table
from pacte.web.formats import KINDS, REGIONS, STATUSES
from pacte.web.forms import YEARS
from pacte.web.messages import in_french
from pacte.web.rendering import render, service
from pacte.web.session import Person, check_csrf, person

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
        "text": "".join(c for c in asked.get("q", "") if c.isprintable())[:100],
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


# -- taking over contracts from a file (issue 26, item 5) ----------------------------------------------------------

MAX_FILE_BYTES = 7 * 1024 * 1024  # under the 8 MB a request to /ui/reprise/… may carry (the form with the file)
OUTCOMES = {
    (True, "imported"): ("Sera importé", "fr-badge--info"),
    (True, "unchanged"): ("Déjà là : rien ne change", ""),
    (True, "refused"): ("Refusé", "fr-badge--error"),
    (False, "imported"): ("Importé", "fr-badge--success"),
    (False, "unchanged"): ("Déjà là : rien n'a changé", ""),
    (False, "refused"): ("Refusé", "fr-badge--error"),
}


def _prefet_only(who: Person) -> None:
    if who.actor.role is not Role.PREFET:
        raise Forbidden(
            "actor.role: contracts under way are taken over by a préfet",
            field="actor.role",
            rule="role.prefet_only",
        )


def _report_rows(report: ImportReport) -> list[dict[str, object]]:
    rows = []
    for outcome in report.contracts:
        territory = CONTRACT_BY_ID.get(attempt_of(outcome.contract_id)[0])
        said, badge = OUTCOMES[(report.dry_run, outcome.outcome)]
        rows.append(
            {
                "contract_id": outcome.contract_id,
                "name": territory.name if territory else outcome.contract_id,
                "outcome": outcome.outcome,
                "said": said,
                "badge": badge,
                "events": outcome.events,
                "line": outcome.line,
                "field": outcome.field,
                "rule": outcome.rule,
                "sentence": in_french(outcome.rule or outcome.code or "domain_error", outcome.params, outcome.code)
                if outcome.outcome == "refused"
                else None,
                "message": outcome.message,
            }
        )
    return rows


def _import_page(request: Request, status: int = 200, **context: object) -> HTMLResponse:
    return render(
        request,
        "import.html",
        "Reprendre des contrats en cours",
        status,
        section="contrats",
        breadcrumb=[("Contrats", "/ui/contrats"), ("Reprise de contrats en cours", None)],
        max_mb=MAX_FILE_BYTES // (1024 * 1024),
        **context,
    )


@router.get("/reprise", response_class=HTMLResponse)
async def import_form(request: Request, who: Person = Depends(person)) -> HTMLResponse:
    _prefet_only(who)
    return _import_page(request)


async def _sent_file(request: Request) -> tuple[str, str]:
    """The file's name and text, from the upload (preview) or from the preview's hidden copy (confirmation)."""
    form = await request.form(max_part_size=MAX_FILE_BYTES + 1024)  # parsed once: check_csrf reads the same
    await check_csrf(request)
    upload = form.get("fichier")
    if upload is not None and not isinstance(upload, str):
        data = await upload.read(MAX_FILE_BYTES + 1)
        name = upload.filename or "fichier"
    else:
        text = form.get("contenu")
        data = text.encode() if isinstance(text, str) else b""
        name = str(form.get("nom") or "fichier")
    if not data.strip():
        raise DomainError("body: the file holds no fact", field="body", code="invalid_value", rule="import.empty")
    if len(data) > MAX_FILE_BYTES:
        raise DomainError(
            f"body: a file of at most {MAX_FILE_BYTES} bytes",
            field="body",
            code="invalid_value",
            rule="import.too_large",
            params={"limit": MAX_FILE_BYTES // (1024 * 1024)},
        )
    try:
        return name[:200], data.decode("utf-8")
    except UnicodeDecodeError:
        raise DomainError(
            "body: the file is not UTF-8 text", field="body", code="invalid_value", rule="import.not_utf8"
        ) from None


async def _imported(request: Request, who: Person, dry_run: bool) -> HTMLResponse:
    _prefet_only(who)
    try:
        name, text = await _sent_file(request)
        report = await service(request).import_file(who.actor, text, dry_run=dry_run)
    except DomainError as error:
        if error.code in ("forbidden", "timeout", "store_unavailable", "outcome_unknown"):
            raise
        sentence = in_french(error.rule, error.params, error.code)
        return _import_page(request, 422, refusal=sentence, technical=error.message)
    return _import_page(request, report=report, rows=_report_rows(report), name=name, text=text)


@router.post("/reprise/apercu", response_class=HTMLResponse)
async def import_preview(request: Request, who: Person = Depends(person)) -> HTMLResponse:
    """What the file would do, contract by contract: decided as the import decides, nothing recorded."""
    return await _imported(request, who, dry_run=True)


@router.post("/reprise/confirmer", response_class=HTMLResponse)
async def import_confirmed(request: Request, who: Person = Depends(person)) -> HTMLResponse:
    """The file previewed, imported: each contract all or nothing; the same file again changes nothing."""
    return await _imported(request, who, dry_run=False)
