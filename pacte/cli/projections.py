"""Read models derived from the events."""

from __future__ import annotations

import typer

from pacte.cli.common import _run, _setup_logging, out
from pacte.service import admin
from pacte.settings import get_settings

projections_app = typer.Typer(help="Read models derived from the events.", no_args_is_help=True)


@projections_app.command("rebuild")
def projections_rebuild() -> None:
    """Drop the read models and derive them again from the events (gives exactly the same rows)."""
    _setup_logging()
    out.print(f"rebuilt the projections of {_run(lambda: admin.rebuild_projections(get_settings()))} contracts")
