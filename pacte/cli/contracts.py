"""Contracts: propose, act on, take over, read — through the API, so the same rules apply as for everyone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from domain.money import format_euros
from domain.territories import REFERENCE_TERRITORIES, contract_id_for
from pacte.cli.common import (
    JsonOption,
    OnOption,
    _api,
    _api_errors,
    _body,
    _call,
    _dated,
    _euros,
    _print_json,
    _show_answer,
    err,
    out,
)
from pacte.client import ApiRefusal
from pacte.service.catalogue import COMMAND_ROUTES

contract_app = typer.Typer(help="Operate contracts.", no_args_is_help=True)


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
    avenant_id: Annotated[
        str | None, typer.Option(help="For sign-avenant and withdraw-avenant, e.g. renewal-2027")
    ] = None,
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
        _sugar("SignAvenant", contract_id, {"party": party, "signatory": signatory}, as_json, on, avenant_id=avenant)
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
