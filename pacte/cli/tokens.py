"""`pacte tokens`: API bearer tokens, kept in PostgreSQL (local administration with the database's owner role; the
web's administrators do the same within their scope). A tokens file of an earlier version is imported first."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from domain.actors import Actor, Person, Role
from pacte.cli.common import _run, err
from pacte.service import admin, credentials
from pacte.settings import get_settings

tokens_app = typer.Typer(help="API bearer tokens (local administration).", no_args_is_help=True)


@tokens_app.command("add")
def tokens_add(
    role: Annotated[Role, typer.Option(help="prefet, collectivite, commissaire, auditor or admin")],
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
    """Create a token; it is printed once, and only its hash is kept (PostgreSQL). With --person-name, a
    person's token: the record names them beside the role identity, and it acts only while the access list grants
    that person (by --person-sub or --person-email) this very role, identity and scope."""

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
        token, entry = _run(
            lambda: admin.with_credentials(
                settings, lambda pool: credentials.add_token(pool, actor, days=days, by=getpass.getuser())
            )
        )
    except ValueError as exc:
        err.print(f"[red]refused[/] (invalid_value): {exc}")
        raise typer.Exit(1) from None
    err.print(
        f"token {entry.token_id} for {role.value} {identity!r}, scope {list(actor.scope)}, expires {entry.expires_at:%Y-%m-%d}"
    )
    print(token)


@tokens_app.command("list")
def tokens_list() -> None:
    """Every token (its holder, role, scope, lifetime and revocation; never the token nor its hash), one JSON line each."""
    from pacte import tokens

    national = Actor(role=Role.ADMIN, identity="local", scope=("*",))
    for entry in _run(
        lambda: admin.with_credentials(get_settings(), lambda pool: credentials.list_tokens(pool, national))
    ):
        print(tokens.json_line(entry))


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id, as `pacte tokens list` shows it")],
) -> None:
    """Revoke any token (local administration): every API process refuses it from its next use."""
    entry = _run(
        lambda: admin.with_credentials(
            get_settings(), lambda pool: credentials.revoke_token(pool, token_id, by=getpass.getuser())
        )
    )
    err.print(f"token {entry.token_id} of {entry.actor.role.value} {entry.actor.identity!r} revoked")
