"""Pacte's keyring: what seals Temporal's payloads, signs the web sessions and the audit anchors (local
administration, on the machine that holds the keyring file)."""

from __future__ import annotations

import typer

from pacte.service import admin
from pacte.settings import get_settings

keys_app = typer.Typer(help="Pacte's keyring (payload codec, sessions, anchors).", no_args_is_help=True)


def _fail(error: ValueError) -> None:
    typer.echo(f"refused: {error}", err=True)
    raise typer.Exit(1)


@keys_app.command("list")
def keys_list() -> None:
    """The keyring's keys (never their value) and the active one."""
    active, keys = admin.keyring_show(get_settings())
    for key_id in keys:
        typer.echo(f"{key_id}{'  (active: seals and signs)' if key_id == active else '  (opens what it sealed)'}")


@keys_app.command("rotate")
def keys_rotate(
    key_id: str = typer.Option(None, "--id", help="Name of the new key (default: k<date and time>)"),
) -> None:
    """Add a key and make it active; the old ones stay to open what they sealed. Restart the workers, then the API."""
    try:
        active, keys = admin.keyring_rotate(get_settings(), key_id)
    except ValueError as error:
        _fail(error)
        return
    typer.echo(f"active key: {active}; keys: {', '.join(keys)}. Restart every worker, then every API process.")


@keys_app.command("remove")
def keys_remove(key_id: str) -> None:
    """Remove an old key once nothing it sealed is read any more (never the active one)."""
    try:
        keys = admin.keyring_remove(get_settings(), key_id)
    except ValueError as error:
        _fail(error)
        return
    typer.echo(f"keys: {', '.join(keys)}")
