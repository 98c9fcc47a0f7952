"""`pacte status`: is the service alive and ready, and if not, what is wrong (asks the API's /health and /ready)."""

from __future__ import annotations

import httpx
from rich.table import Table

from pacte.cli.common import JsonOption, _print_json, err, out
from pacte.settings import get_settings


def status(as_json: JsonOption = False) -> None:
    """Alive and ready: Temporal, the event store and its migrations, a worker polling. Exit 0 only when ready."""
    import typer

    base = get_settings().api_url
    try:
        alive = httpx.get(f"{base}/health", timeout=5).status_code == 200
        ready = httpx.get(f"{base}/ready", timeout=15).json()
    except httpx.HTTPError as exc:
        err.print(f"[red]down[/]: the API at {base} does not answer ({type(exc).__name__})")
        raise typer.Exit(1) from None
    if as_json:
        _print_json({"alive": alive, **ready})
    else:
        table = Table("check", "ok", "detail", title=f"{base}: {'ready' if ready['ready'] else 'NOT READY'}")
        table.add_row("api", "yes" if alive else "no", "alive" if alive else "not answering /health")
        for name, check in ready["checks"].items():
            table.add_row(name, "[green]yes[/]" if check["ok"] else "[red]no[/]", check["detail"])
        out.print(table)
    raise typer.Exit(0 if alive and ready["ready"] else 1)
