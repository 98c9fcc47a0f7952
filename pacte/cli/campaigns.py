"""Campaigns: contracts proposed to many territories at once."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pacte.cli.common import (
    JsonOption,
    _call,
    _euros,
    _print_json,
    err,
    out,
)

campaign_app = typer.Typer(help="Campaigns: contracts proposed to many territories at once.", no_args_is_help=True)


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
