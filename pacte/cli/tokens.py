"""API bearer tokens (local administration)."""

from __future__ import annotations

from typing import Annotated

import typer

from domain.actors import Actor, Person, Role
from pacte.cli.common import (
    err,
)
from pacte.settings import get_settings

tokens_app = typer.Typer(help="API bearer tokens (local administration).", no_args_is_help=True)


@tokens_app.command("add")
def tokens_add(
    role: Annotated[Role, typer.Option(help="prefet, collectivite, commissaire or auditor")],
    identity: Annotated[str, typer.Option(help="Who holds it, e.g. prefecture-gironde")],
    scope: Annotated[
        str,
        typer.Option(help="Départements (préfet), SIREN or D-code (collectivité), région (commissaire), * (national)"),
    ] = "",
    days: Annotated[int, typer.Option(help="Days before it expires")] = 365,
    person_name: Annotated[
        str | None, typer.Option(help="The person the token is for: every act done with it is attributed to them")
    ] = None,
    person_email: Annotated[str | None, typer.Option(help="Their e-mail")] = None,
    person_sub: Annotated[str | None, typer.Option(help="Their stable id at the identity provider")] = None,
) -> None:
    """Create a token; it is printed once, and only its hash is kept in PACTE_TOKENS_FILE. With --person-name, a
    person's token: the record names them beside the role identity, and it acts only while the access list grants
    that person (by --person-sub or --person-email) this very role, identity and scope."""
    from pacte import tokens

    settings = get_settings()
    if role is Role.COLLECTIVITE and "*" in scope:
        err.print("[red]refused[/] (invalid_value): scope: a collectivité acts only for itself, never nationally")
        raise typer.Exit(1)
    try:
        person = (
            Person(sub=person_sub or person_email or person_name, name=person_name, email=person_email)
            if person_name
            else None
        )
        actor = Actor(
            role=role,
            identity=identity,
            scope=tuple(x.strip() for x in scope.split(",") if x.strip()),
            person=person,
        )
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


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id, as `pacte tokens list` shows it")],
) -> None:
    """Revoke any token (local administration, with access to PACTE_TOKENS_FILE): it stops working at its next use."""
    from pacte import tokens

    try:
        entry = tokens.revoke(get_settings().tokens_path(), token_id)
    except ValueError as exc:
        err.print(f"[red]refused[/] (invalid_value): {exc}")
        raise typer.Exit(1) from None
    err.print(f"token {entry.token_id} of {entry.actor.role.value} {entry.actor.identity!r} revoked")
