"""The 2024–2027 programme run end to end on the time-skipping Temporal test server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pacte.cli.common import (
    JsonOption,
    _run,
    err,
    out,
)
from pacte.logging import configure_logging
from pacte.runtime import configure_temporal_runtime
from pacte.settings import get_settings


def simulate(
    territories: Annotated[
        str,
        typer.Option(
            help="all | metropoles | departements | N: a seeded sample of the 123 real territories, or beyond 123 all "
            "of them and N − 123 synthetic intercommunalités"
        ),
    ] = "10",
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

    from pacte.simulate import choose_territories
    from pacte.simulate import simulate as run

    try:
        choose_territories(territories, seed)
    except ValueError as error:
        err.print(f"[red]usage[/]: --{error}")
        raise typer.Exit(2) from None

    settings = get_settings()
    configure_logging("WARNING", settings.log_format or "console")
    configure_temporal_runtime(metrics=False)
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
