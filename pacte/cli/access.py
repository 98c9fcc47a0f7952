"""`pacte access`: who may sign in, as which role over which scope (local administration, in PostgreSQL with the
database's owner role; every change appended to the access list's log). An access-list file of an earlier version
is imported first."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.table import Table

from domain.actors import Actor, Role
from pacte.cli.common import _run, err, out
from pacte.service import admin, credentials
from pacte.settings import get_settings

access_app = typer.Typer(
    help="Who may sign in to the web interface, as which role (the access list).", no_args_is_help=True
)


@access_app.command("grant")
def access_grant(
    role: Annotated[Role, typer.Option(help="prefet, collectivite, commissaire, auditor or admin")],
    identity: Annotated[str, typer.Option(help="The role identity acts are recorded under, e.g. prefecture-gironde")],
    scope: Annotated[str, typer.Option(help="Départements, a territory id, a région, or * (as for tokens)")],
    sub: Annotated[str | None, typer.Option(help="A person, by their identity provider's stable id")] = None,
    email: Annotated[str | None, typer.Option(help="A person, by e-mail")] = None,
    siret: Annotated[str | None, typer.Option(help="Every agent of an establishment (14 digits)")] = None,
    siren: Annotated[str | None, typer.Option(help="Every agent of an organisation (9 digits)")] = None,
    organisation: Annotated[str, typer.Option(help="Shown beside their name, e.g. Préfecture de la Gironde")] = "",
    days: Annotated[int, typer.Option(help="Days before it expires (at most 730)")] = 365,
) -> None:
    """Grant a role and scope to a person (sub or e-mail) or an organisation (SIRET or SIREN)."""
    given = {k: v for k, v in {"sub": sub, "email": email, "siret": siret, "siren": siren}.items() if v}
    if len(given) != 1:
        err.print("[red]usage[/]: give exactly one of --sub, --email, --siret, --siren")
        raise typer.Exit(2)
    ((match, value),) = given.items()
    try:
        actor = Actor(role=role, identity=identity, scope=tuple(x.strip() for x in scope.split(",") if x.strip()))
        entry = _run(
            lambda: admin.with_credentials(
                get_settings(),
                lambda pool: credentials.grant(
                    pool,
                    match,  # type: ignore[arg-type]
                    value,
                    actor,
                    by=getpass.getuser(),
                    days=days,
                    organisation=organisation,
                ),
            )
        )
    except ValueError as exc:
        err.print(f"[red]refused[/] (invalid_value): {exc}")
        raise typer.Exit(1) from None
    out.print(
        f"granted {entry.grant_id}: {match} {entry.value} → {role.value} {identity} {list(entry.scope)}, until {entry.expires_at:%Y-%m-%d}"
    )


@access_app.command("revoke")
def access_revoke(grant_id: str) -> None:
    """Revoke a grant: sessions it opened are refused from their next request."""
    try:
        _run(
            lambda: admin.with_credentials(
                get_settings(), lambda pool: credentials.revoke_grant(pool, grant_id, by=getpass.getuser())
            )
        )
    except ValueError as exc:
        err.print(f"[red]refused[/] (invalid_value): {exc}")
        raise typer.Exit(1) from None
    out.print(f"revoked {grant_id}")


@access_app.command("list")
def access_list() -> None:
    """The grants, active or not."""
    table = Table("grant", "who", "role", "identity", "scope", "until", "state")
    for g in _run(lambda: admin.with_credentials(get_settings(), credentials.grants)):
        state = (
            "revoked"
            if g.revoked_at
            else ("expired" if g.expires_at.timestamp() < __import__("time").time() else "active")
        )
        table.add_row(
            g.grant_id,
            f"{g.match} {g.value}",
            g.role.value,
            g.identity,
            ",".join(g.scope),
            f"{g.expires_at:%Y-%m-%d}",
            state,
        )
    out.print(table)
