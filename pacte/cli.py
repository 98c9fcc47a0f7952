"""The `pacte` command line (typer + rich).

Exit codes scripts can rely on: 0 done, 1 refused (domain rule, unknown contract), 2 usage error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from domain.actors import Actor, Role
from domain.errors import DomainError
from domain.money import MoneyFormatError, format_euros, parse_euros
from domain.territories import REFERENCE_TERRITORIES, contract_id_for
from pacte import service
from pacte.api import COMMAND_ROUTES
from pacte.client import ApiClient, ApiRefusal, euros_to_cents
from pacte.embedded import PortInUse
from pacte.logging import configure_logging
from pacte.runtime import build_worker, configure_temporal_runtime, connect_temporal, open_store
from pacte.settings import get_settings

app = typer.Typer(
    help="Pacte: the contrats locaux des solidarités 2024–2027 as durable workflows.", no_args_is_help=True
)
contract_app = typer.Typer(help="Operate contracts.", no_args_is_help=True)
audit_app = typer.Typer(help="Audit the event store.", no_args_is_help=True)
app.add_typer(contract_app, name="contract")
app.add_typer(audit_app, name="audit")

out = Console()
err = Console(stderr=True)
T = TypeVar("T")

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]
OnOption = Annotated[
    str | None,
    typer.Option(
        "--on", help="When it happened (YYYY-MM-DD, a French date; or an ISO date-time). Default: now.", metavar="DATE"
    ),
]


def _dated(body: dict[str, Any], on: str | None) -> dict[str, Any]:
    return body if on is None else {**body, "occurred_at": on}


def _run(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; turn refusals into exit code 1 with the rule's sentence."""
    try:
        return asyncio.run(make())  # type: ignore[arg-type]
    except DomainError as error:
        err.print(f"[red]refused[/] ({error.code}): {error.message}")
        raise typer.Exit(1) from None
    except service.ContractNotFound as error:
        err.print(f"[red]not found[/]: {error}")
        raise typer.Exit(1) from None
    except (ConnectionError, PortInUse) as error:
        err.print(f"[red]error[/]: {error}")
        raise typer.Exit(1) from None


def _setup_logging(default: str = "json") -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format or default)  # type: ignore[arg-type]
    configure_temporal_runtime()


def _print_json(value: Any) -> None:
    out.print_json(json.dumps(value, default=str, ensure_ascii=False))


@app.command()
def dev() -> None:
    """Run everything locally: Temporal dev server + Web UI, embedded PostgreSQL, worker and HTTP API."""
    from pacte.dev import run_dev

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format or "console")
    configure_temporal_runtime()
    _run(lambda: run_dev(settings, out))


@app.command()
def worker() -> None:
    """Run a Temporal worker against the configured Temporal and PostgreSQL (production)."""
    _setup_logging()
    settings = get_settings()

    async def main() -> None:
        async with open_store(settings) as store:
            client = await connect_temporal(settings, attempts=60)
            await build_worker(
                client, store, settings.task_queue, max_cached_workflows=settings.worker_max_cached_workflows
            ).run()

    _run(main)


@app.command()
def api() -> None:
    """Run the HTTP API against the configured Temporal and PostgreSQL (production)."""
    import uvicorn

    from pacte.api import create_app

    _setup_logging()
    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_config=None)


@app.command()
def migrate() -> None:
    """Apply the event store's migrations (the worker and API also do it at start)."""
    _setup_logging()

    async def main() -> None:
        async with open_store(get_settings(), as_owner=True):  # the owner's job
            out.print("migrations applied")

    _run(main)


@app.command()
def territories(as_json: JsonOption = False) -> None:
    """List the territories that can hold a contract."""
    rows = sorted(REFERENCE_TERRITORIES.values(), key=lambda t: (t.kind, t.id))
    if as_json:
        _print_json([t.model_dump(mode="json") for t in rows])
        return
    table = Table("id", "name", "kind", "région", "départements", "contract")
    for t in rows:
        table.add_row(t.id, t.name, t.kind, t.region, " ".join(t.departements), t.contract_id)
    out.print(table)


def _api() -> ApiClient:
    settings = get_settings()
    return ApiClient(settings.api_url, settings.token)


@contextlib.contextmanager
def _api_errors() -> Iterator[None]:
    """Around API calls: a refusal prints its problem and exits 1, an unreachable API exits 1 too."""
    try:
        yield
    except ApiRefusal as refusal:
        problem = refusal.problem
        err.print(f"[red]refused[/] ({problem.get('code')}, HTTP {refusal.status}): {problem.get('message')}")
        raise typer.Exit(1) from None
    except (ConnectionError, MoneyFormatError) as error:
        err.print(f"[red]error[/]: {error}")
        raise typer.Exit(1) from None


def _call(method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
    with _api_errors():
        return _api().call(method, path, body, **kwargs)


def _euros(text: str, field: str) -> int:
    """An amount typed in euros, in cents; an unreadable one is refused (exit 1) naming the field."""
    try:
        return parse_euros(text)
    except MoneyFormatError as exc:
        err.print(f"[red]refused[/] (invalid_value): {field}: {exc}")
        raise typer.Exit(1) from None


def _show_answer(answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _print_json(answer)
        return
    state = answer["state"]
    events = ", ".join(e["type"] for e in answer["events"]) or "nothing new (same request)"
    out.print(f"[green]done[/] {answer['contract_id']} v{answer['version']}: {events} — status {state['status']}")


def _body(data: str) -> Any:
    """JSON given inline or as @file; amounts may be written in euros."""
    text = Path(data[1:]).read_text() if data.startswith("@") else data
    try:
        return euros_to_cents(json.loads(text))
    except json.JSONDecodeError as exc:
        err.print(f"[red]usage[/]: --data is not JSON: {exc}")
        raise typer.Exit(2) from None


@contract_app.command("propose")
def contract_propose(
    territory: Annotated[str, typer.Option(help="SIREN of a métropole, or D + INSEE code (D33)")],
    ceiling: Annotated[str, typer.Option(help='Annual ceiling in euros: "1500000", "1 500 000,00 €"')],
    request_id: Annotated[str | None, typer.Option(help="Idempotency key; a new one by default")] = None,
    on: OnOption = None,
    as_json: JsonOption = False,
) -> None:
    """The préfet proposes a contract to a territory (through the API, with PACTE_TOKEN)."""
    cents = _euros(ceiling, "ceiling")
    with _api_errors():
        try:
            answer = _api().call(
                "POST", "/contracts", _dated({"territory": territory, "annual_ceiling": cents}, on), key=request_id
            )
        except ApiRefusal as refusal:
            if refusal.problem.get("code") != "already_exists":
                raise
            out.print(f"[yellow]exists[/] {contract_id_for(territory)} already exists; nothing was changed")
            return
    if as_json:
        _print_json(answer)
    else:
        name = REFERENCE_TERRITORIES[territory].name
        out.print(
            f"[green]proposed[/] {answer['contract_id']}: {name}, annual ceiling {format_euros(cents)} — event ContractProposed recorded"
        )


COMMANDS = {kind: (method, path) for method, path, kind, _ in COMMAND_ROUTES}
KEBAB = {re.sub(r"(?<!^)(?=[A-Z])", "-", kind).lower(): kind for kind in COMMANDS}


@contract_app.command("do")
def contract_do(
    contract_id: str,
    command: Annotated[str, typer.Argument(help=f"One of: {', '.join(sorted(KEBAB))}")],
    data: Annotated[
        str, typer.Option(help="The command's fields as JSON, or @file.json; amounts in euros or cents")
    ] = "{}",
    action_id: Annotated[str | None, typer.Option(help="For change-action and remove-action")] = None,
    avenant_id: Annotated[str | None, typer.Option(help="For sign-avenant, e.g. renewal-2027")] = None,
    request_id: Annotated[str | None, typer.Option(help="Idempotency key; a new one by default")] = None,
    on: OnOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send any operator command to a contract, e.g. `pacte contract do cls-d33 sign-contract --data '{"party": "etat", "signatory": "…"}'`."""
    kind = KEBAB.get(command)
    if kind is None:
        err.print(f"[red]usage[/]: unknown command {command!r}; one of {', '.join(sorted(KEBAB))}")
        raise typer.Exit(2)
    method, path = COMMANDS[kind]
    url = path.format(contract_id=contract_id, action_id=action_id or "", avenant_id=avenant_id or "")
    body = _body(data)
    if on is not None and isinstance(body, dict):
        body = _dated(body, on)
    _show_answer(_call(method, url, body, key=request_id), as_json)


def _sugar(kind: str, contract_id: str, body: dict[str, Any], as_json: bool, on: str | None, **path: str) -> None:
    method, template = COMMANDS[kind]
    _show_answer(_call(method, template.format(contract_id=contract_id, **path), _dated(body, on)), as_json)


@contract_app.command("deliberate")
def contract_deliberate(
    contract_id: str,
    voted_on: Annotated[str, typer.Option(help="Date of the vote, YYYY-MM-DD")],
    reference: Annotated[str, typer.Option(help="Reference of the deliberation")],
    body: Annotated[str, typer.Option(help="assemblee or commission_permanente")] = "assemblee",
    on: OnOption = None,
    as_json: JsonOption = False,
) -> None:
    """The collectivité records its assembly's vote."""
    _sugar(
        "RecordDeliberation",
        contract_id,
        {"deliberation": {"body": body, "voted_on": voted_on, "reference": reference}},
        as_json,
        on,
    )


@contract_app.command("sign")
def contract_sign(
    contract_id: str,
    party: Annotated[str, typer.Option(help="etat or collectivite")],
    signatory: Annotated[str, typer.Option(help="Who signs")],
    avenant: Annotated[
        str | None, typer.Option(help="Sign this avenant (e.g. renewal-2027) instead of the contract")
    ] = None,
    on: OnOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sign the contract, or an avenant, for one party."""
    if avenant:
        _sugar("SignAvenant", contract_id, {"party": party}, as_json, on, avenant_id=avenant)
    else:
        _sugar("SignContract", contract_id, {"party": party, "signatory": signatory}, as_json, on)


@contract_app.command("review")
def contract_review(
    contract_id: str,
    year: Annotated[int, typer.Option()],
    review_date: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    findings: Annotated[str, typer.Option()],
    decision: Annotated[str, typer.Option(help="CONTINUE, ADJUST or SUSPEND")] = "CONTINUE",
    on: OnOption = None,
    as_json: JsonOption = False,
) -> None:
    """The commissaire records the committee's review of a year."""
    body = {"year": year, "review_date": review_date, "findings": findings, "decision": decision}
    _sugar("RecordCommitteeReview", contract_id, body, as_json, on)


@contract_app.command("renew")
def contract_renew(
    contract_id: str,
    year: Annotated[int, typer.Option(help="The year renewed for")],
    data: Annotated[
        str,
        typer.Option(help='Amounts by action as JSON or @file: {"A1": {"etat": "200 000", "collectivite": "200 000"}}'),
    ],
    on: OnOption = None,
    as_json: JsonOption = False,
) -> None:
    """The préfet proposes the renewal avenant for next year; both parties then sign it."""
    _sugar("Renew", contract_id, {"year": year, "amounts": _body(data)}, as_json, on)


@contract_app.command("import")
def contract_import(
    file: Annotated[Path, typer.Argument(help="JSON lines: one dated fact a line (README: 'Taking over contracts')")],
    as_json: JsonOption = False,
) -> None:
    """Take over contracts under way with their whole history (reprise de l'existant); all or nothing per contract."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[red]error[/]: cannot read {file}: {exc}")
        raise typer.Exit(1) from None
    with _api_errors():
        report = _api().call_text("POST", "/imports", text)
    if as_json:
        _print_json(report)
    else:
        for c in report["contracts"]:
            if c["outcome"] == "refused":
                where = f"line {c['line']}, " if c.get("line") else ""
                err.print(
                    f"[red]refused[/] {c['contract_id']}: {where}{c['field'] or '—'}: {c['message']} ({c['code']})"
                )
            else:
                colour = "green" if c["outcome"] == "imported" else "yellow"
                out.print(
                    f"[{colour}]{c['outcome']}[/] {c['contract_id']}: {c['events']} events, version {c['version']}"
                )
        out.print(f"{report['imported']} imported, {report['unchanged']} unchanged, {report['refused']} refused")
    raise typer.Exit(1 if report["refused"] else 0)


@contract_app.command("show")
def contract_show(contract_id: str, as_json: JsonOption = False) -> None:
    """A contract's current state, as its workflow holds it."""
    state = _call("GET", f"/contracts/{contract_id}")
    if as_json:
        _print_json({k: v for k, v in state.items() if k != "request_ids"})
        return
    table = Table(show_header=False, title=contract_id)
    table.add_row("status", state["status"])
    table.add_row("territory", f"{state['territory_name']} ({state['territory_id']})")
    table.add_row("kind", str(state["kind"]))
    table.add_row("annual ceiling", format_euros(state["annual_ceiling"]))
    table.add_row("current year", str(state["current_year"] or "—"))
    table.add_row("actions", ", ".join(state["actions"]) or "—")
    table.add_row(
        "missed deadlines",
        ", ".join(f"{m['deadline']} {m['year'] or ''}".strip() for m in state["missed_deadlines"]) or "—",
    )
    table.add_row("version", str(state["version"]))
    out.print(table)


@contract_app.command("list")
def contract_list(as_json: JsonOption = False) -> None:
    """The contracts within your scope."""
    rows = _call("GET", "/contracts")
    if as_json:
        _print_json(rows)
        return
    table = Table("contract", "territory", "status", "year", "ceiling")
    for r in rows:
        table.add_row(
            r["contract_id"],
            r["territory_name"],
            r["status"],
            str(r["current_year"] or "—"),
            format_euros(r["annual_ceiling"]),
        )
    out.print(table)


@contract_app.command("deadlines")
def contract_deadlines(contract_id: str, as_json: JsonOption = False) -> None:
    """What the contract owes, and by when."""
    rows = _call("GET", f"/contracts/{contract_id}/deadlines")
    if as_json:
        _print_json(rows)
        return
    table = Table("deadline", "year", "due", "reminder", "missed")
    for d in rows:
        table.add_row(d["kind"], str(d["year"] or "—"), d["due"], d["reminder"], "yes" if d["missed_recorded"] else "")
    out.print(table)


campaign_app = typer.Typer(help="Campaigns: contracts proposed to many territories at once.", no_args_is_help=True)
app.add_typer(campaign_app, name="campaign")


@campaign_app.command("start")
def campaign_start(
    territories: Annotated[str, typer.Option(help="Territory ids, comma-separated (SIREN or D + INSEE code)")],
    ceiling: Annotated[str, typer.Option(help="Annual ceiling in euros, for each territory")],
    campaign_id: Annotated[str | None, typer.Option("--id", help="Re-running the same id is harmless")] = None,
    as_json: JsonOption = False,
) -> None:
    """A préfet (or the national level) proposes contracts to a list of territories."""
    cents = _euros(ceiling, "ceiling")
    body = {"territories": [t.strip() for t in territories.split(",") if t.strip()], "annual_ceiling": cents}
    answer = _call("POST", "/campaigns", body, key=campaign_id)
    name = answer["campaign_id"]  # namespaced by who starts it: campaign-<owner>-<key>
    if as_json:
        _print_json({"campaign_id": name})
    else:
        out.print(f"[green]started[/] {name}: {len(body['territories'])} territories")


@campaign_app.command("status")
def campaign_status(campaign_id: str, as_json: JsonOption = False) -> None:
    """A campaign's progress: proposed, signed, in execution, late, closed, and what was refused."""
    progress = _call("GET", f"/campaigns/{campaign_id}")
    if as_json:
        _print_json(progress)
        return
    table = Table(show_header=False, title=campaign_id)
    table.add_row("complete", "yes" if progress["complete"] else "no (answers still coming)")
    for key in ("proposed", "signed", "in_execution", "late", "closed", "terminated"):
        table.add_row(key, str(progress[key]))
    table.add_row("started", ", ".join(progress["started"]) or "—")
    table.add_row("already there", ", ".join(progress["existing"]) or "—")
    out.print(table)
    for territory, reason in progress["refused"].items():
        err.print(f"[yellow]refused[/] {territory}: {reason}")


@app.command("reminders")
def reminders(
    contract_id: Annotated[str | None, typer.Option("--contract")] = None, as_json: JsonOption = False
) -> None:
    """The reminders outbox: deadlines coming up, within your scope."""
    rows = _call("GET", "/reminders", params={"contract_id": contract_id} if contract_id else None)
    if as_json:
        _print_json(rows)
        return
    table = Table("contract", "deadline", "year", "due", "remind on")
    for r in rows:
        table.add_row(r["contract_id"], r["deadline"], str(r["year"] or "—"), r["due"], r["remind_on"])
    out.print(table)


@audit_app.command("history")
def audit_history(contract_id: str, as_json: JsonOption = False) -> None:
    """A contract's timeline: who did what, when (business and record time)."""
    events = _call("GET", f"/contracts/{contract_id}/timeline")
    if as_json:
        _print_json(events)
        return
    table = Table(
        "v",
        "event",
        "who",
        "entered by",
        "occurred (business)",
        "recorded",
        "notes",
        title=f"{contract_id}: {len(events)} events",
    )
    for e in events:
        notes = []
        if e["late_by_days"] is not None:
            notes.append(f"recorded {e['late_by_days']} days late")
        if e["imported"]:
            notes.append(f"imported: {e['source']}")
        elif e["source"]:
            notes.append(f"source: {e['source']}")
        if e["withdrawn_by"]:
            notes.append(f"withdrawn by v{e['withdrawn_by']}")
        if e["rectified_by"]:
            notes.append("rectified by " + ", ".join(f"v{v}" for v in e["rectified_by"]))
        table.add_row(
            str(e["version"]),
            e["event_type"],
            f"{e['identity']} ({e['role']})",
            e["recorded_by"] or "",
            e["occurred_at"][:16].replace("T", " "),
            e["recorded_at"][:19].replace("T", " "),
            "; ".join(notes),
        )
    out.print(table)


@audit_app.command("as-of")
def audit_as_of(
    contract_id: str,
    day: Annotated[str, typer.Argument(help="YYYY-MM-DD (business date: what was true then)")],
    known_at: Annotated[
        str | None,
        typer.Option("--known-at", help="Record time: only what Pacte knew then (YYYY-MM-DD or ISO date-time)"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """A contract's state as of a business date, as known now or as known at a record time, replayed from its events."""
    params = {"known_at": known_at} if known_at else None
    state = _call("GET", f"/contracts/{contract_id}/as-of/{day}", params=params)
    if as_json:
        _print_json(state)
    else:
        missed = ", ".join(f"{m['deadline']} {m['year'] or ''}".strip() for m in state["missed_deadlines"]) or "—"
        known = f" (as known at {known_at})" if known_at else ""
        out.print(
            f"{contract_id} as of {day}{known}: {state['status']}, year {state['current_year'] or '—'}, "
            f"actions {', '.join(state['actions']) or '—'}, missed deadlines {missed}"
        )


@audit_app.command("changes")
def audit_changes(
    contract_id: str,
    start: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    end: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    as_json: JsonOption = False,
) -> None:
    """What changed between two dates, and through which events."""
    why = _call("GET", f"/contracts/{contract_id}/changes", params={"start": start, "end": end})
    if as_json:
        _print_json(why)
        return
    for e in why["events"]:
        out.print(f"  {e['occurred_at'][:10]}  {e['type']}  by {e['actor']['identity']}  ({e['why']})")
    for e in why["revisions_of_start"]:
        out.print(f"  revised {e['occurred_at'][:10]}  {e['type']}  by {e['actor']['identity']}  ({e['why']})")
    out.print(
        "  the difference comes from "
        + ("late records or corrections too" if why["from_late_records_or_corrections"] else "new facts only")
    )
    for c in why["changes"]:
        out.print(
            f"  {c['field']}: {json.dumps(c['before'], ensure_ascii=False)[:60]} → {json.dumps(c['after'], ensure_ascii=False)[:60]}"
        )


@audit_app.command("export")
def audit_export(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write")],
    contract_id: Annotated[str | None, typer.Option("--contract", help="One contract; all by default")] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
) -> None:
    """Export events (JSON lines or CSV), with progress."""
    from rich.progress import Progress

    if fmt not in ("jsonl", "csv"):
        err.print("[red]usage[/]: --format is jsonl or csv")
        raise typer.Exit(2)
    params = {"contract_id": contract_id} if contract_id else None
    written = 0
    with _api_errors(), output.open("wb") as sink, Progress(console=err, transient=True) as progress:
        task = progress.add_task(f"exporting to {output}", total=None)
        for chunk in _api().stream(f"/exports/events.{fmt}", params):
            sink.write(chunk)
            written += len(chunk)
            progress.update(task, completed=written)
    err.print(f"{written} bytes written to {output}")


LocalOption = Annotated[
    bool,
    typer.Option(
        "--local",
        help="Read the event store directly (PACTE_DATABASE_URL) instead of asking the API: an administrator's check "
        "that does not depend on the API telling the truth",
    ),
]


def _local(work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run work(connection) against the event store itself, not through the API (local administration)."""
    _setup_logging()

    async def main() -> Any:
        async with open_store(get_settings(), as_owner=True) as store, store.pool.acquire() as conn:
            return await work(conn)

    return _run(main)


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        Path | None, typer.Option(help="An anchor from `pacte audit anchor`: also catches deleted streams, cut tails")
    ] = None,
    local: LocalOption = False,
    as_json: JsonOption = False,
) -> None:
    """Recompute every event's hash and chain. Exit 0 when intact; 1 naming the first bad stream and version."""
    from eventstore.integrity import Anchor, VerifyReport, verify

    loaded = Anchor.model_validate_json(anchor.read_text()) if anchor else None
    if local:
        key = get_settings().anchor_key()
        report = _local(lambda conn: verify(conn, loaded, key))
    elif loaded is not None:
        report = VerifyReport.model_validate(_call("POST", "/audit/verify", loaded.model_dump(mode="json")))
    else:
        report = VerifyReport.model_validate(_call("GET", "/audit/verify"))
    if as_json:
        _print_json(report.model_dump(mode="json"))
    elif report.ok:
        out.print(
            f"[green]intact[/]: {report.events} events in {report.streams} streams"
            + (", anchor matched" if anchor else "")
        )
    else:
        problem = report.first_problem
        assert problem is not None
        err.print(f"[red]TAMPERED[/]: stream {problem.stream_id}, version {problem.version}: {problem.reason}")
    raise typer.Exit(0 if report.ok else 1)


@audit_app.command("anchor")
def audit_anchor(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout")] = None,
    local: LocalOption = False,
) -> None:
    """Print a digest of all stream heads; keep it outside the database, and check it later with verify --anchor."""
    from eventstore.integrity import Anchor, take_anchor

    if local:
        key = get_settings().anchor_key()
        anchor = _local(lambda conn: take_anchor(conn, key))
    else:
        anchor = Anchor.model_validate(_call("GET", "/audit/anchor"))
    text = anchor.model_dump_json(indent=2)
    if output:
        output.write_text(text + "\n")
        err.print(f"anchor of {len(anchor.streams)} streams written to {output} (digest {anchor.digest[:16]}…)")
    else:
        print(text)


@app.command()
def simulate(
    territories: Annotated[str, typer.Option(help="all | metropoles | departements | N (a seeded sample)")] = "10",
    seed: Annotated[int, typer.Option(help="Seed of the random but realistic programme")] = 2024,
    until: Annotated[
        str | None, typer.Option(help="Stop at the end of this day (YYYY-MM-DD): the programme as it stood then")
    ] = None,
    export: Annotated[
        Path | None, typer.Option(help="Write the histories driven (up to --until) as an import file (JSON lines)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run the 2024–2027 programme on the time-skipping Temporal test server, then verify the event store."""
    from datetime import date

    try:
        cut = date.fromisoformat(until) if until else None
    except ValueError:
        err.print(f"[red]usage[/]: --until: {until!r} is not a date (YYYY-MM-DD)")
        raise typer.Exit(2) from None
    from rich.progress import Progress

    from pacte.simulate import simulate as run

    settings = get_settings()
    configure_logging("WARNING", settings.log_format or "console")
    configure_temporal_runtime()
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("simulating 2024–2027", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = _run(lambda: run(settings, territories, seed, advance, until=cut, export=export))
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        table = Table(show_header=False, title="simulation 2024–2027")
        for key, value in result.items():
            if key != "refusals" and value is not None:
                table.add_row(key, str(value))
        out.print(table)
        for line in result["refusals"]:
            err.print(f"[yellow]refused[/] {line}")
    raise typer.Exit(0 if result["verify"] == "ok" and not result["refused"] else 1)


tokens_app = typer.Typer(help="API bearer tokens (local administration).", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


@tokens_app.command("add")
def tokens_add(
    role: Annotated[Role, typer.Option(help="prefet, collectivite, commissaire or auditor")],
    identity: Annotated[str, typer.Option(help="Who holds it, e.g. prefecture-gironde")],
    scope: Annotated[
        str,
        typer.Option(help="Départements (préfet), SIREN or D-code (collectivité), région (commissaire), * (national)"),
    ] = "",
    days: Annotated[int, typer.Option(help="Days before it expires")] = 365,
) -> None:
    """Create a token; it is printed once, and only its hash is kept in PACTE_TOKENS_FILE."""
    from pacte import tokens

    settings = get_settings()
    if role is Role.COLLECTIVITE and "*" in scope:
        err.print("[red]refused[/] (invalid_value): scope: a collectivité acts only for itself, never nationally")
        raise typer.Exit(1)
    try:
        actor = Actor(role=role, identity=identity, scope=tuple(x.strip() for x in scope.split(",") if x.strip()))
        token, entry = tokens.add(settings.tokens_path(), actor, days=days)
    except ValueError as exc:
        err.print(f"[red]refused[/] (invalid_value): {exc}")
        raise typer.Exit(1) from None
    err.print(
        f"token {entry.token_id} for {role.value} {identity!r}, scope {list(actor.scope)}, expires {entry.expires_at:%Y-%m-%d}"
    )
    print(token)


@tokens_app.command("list")
def tokens_list() -> None:
    """The tokens in PACTE_TOKENS_FILE (their holders, never the tokens)."""
    from pacte import tokens

    for entry in tokens.load(get_settings().tokens_path()).tokens:
        print(tokens.json_line(entry))


projections_app = typer.Typer(help="Read models derived from the events.", no_args_is_help=True)
app.add_typer(projections_app, name="projections")


@projections_app.command("rebuild")
def projections_rebuild() -> None:
    """Drop the read models and derive them again from the events (gives exactly the same rows)."""
    from eventstore.projections import rebuild

    out.print(f"rebuilt the projections of {_local(rebuild)} contracts")


def main() -> None:
    app()
