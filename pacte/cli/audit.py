"""Audit: a contract's history, as of a date, what changed, exports, and the store's integrity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pacte.cli.common import (
    JsonOption,
    _api,
    _api_errors,
    _call,
    _print_json,
    _run,
    _setup_logging,
    err,
    out,
)
from pacte.service import admin
from pacte.service.answers import Anchor, VerifyReport
from pacte.settings import get_settings

audit_app = typer.Typer(help="Audit the event store.", no_args_is_help=True)


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


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        Path | None, typer.Option(help="An anchor from `pacte audit anchor`: also catches deleted streams, cut tails")
    ] = None,
    local: LocalOption = False,
    as_json: JsonOption = False,
) -> None:
    """Recompute every event's hash and chain. Exit 0 when intact; 1 naming the first bad stream and version."""
    loaded = Anchor.model_validate_json(anchor.read_text()) if anchor else None
    if local:
        _setup_logging()
        report = _run(lambda: admin.verify_store(get_settings(), loaded))
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
        for note in report.notes:
            out.print(f"[yellow]note[/]: {note}")
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
    if local:
        _setup_logging()
        anchor = _run(lambda: admin.take_store_anchor(get_settings()))
    else:
        anchor = Anchor.model_validate(_call("GET", "/audit/anchor"))
    text = anchor.model_dump_json(indent=2)
    if output:
        output.write_text(text + "\n")
        err.print(f"anchor of {len(anchor.streams)} streams written to {output} (digest {anchor.digest[:16]}…)")
    else:
        print(text)
