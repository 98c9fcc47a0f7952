"""The `pacte` command line (typer + rich).

Exit codes scripts can rely on: 0 done, 1 refused (domain rule, unknown contract), 2 usage error.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from domain.actors import Actor, Role
from domain.commands import ProposeContract
from domain.errors import DomainError
from domain.money import MoneyFormatError, format_euros, parse_euros
from domain.territories import REFERENCE_TERRITORIES, contract_id_for
from pacte import service
from pacte.embedded import PortInUse
from pacte.logging import configure_logging
from pacte.runtime import build_worker, configure_temporal_runtime, connect_temporal, open_store
from pacte.settings import get_settings

app = typer.Typer(
    help="Pacte: the contrats locaux des solidarités 2024–2027 as durable workflows.", no_args_is_help=True
)
contract_app = typer.Typer(help="Operate contracts.", no_args_is_help=True)
audit_app = typer.Typer(help="Audit the event store.", no_args_is_help=True)
app.add_typer(contract_app, name="contract")
app.add_typer(audit_app, name="audit")

out = Console()
err = Console(stderr=True)
T = TypeVar("T")

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]


def _run(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; turn refusals into exit code 1 with the rule's sentence."""
    try:
        return asyncio.run(make())  # type: ignore[arg-type]
    except DomainError as error:
        err.print(f"[red]refused[/] ({error.code}): {error.message}")
        raise typer.Exit(1) from None
    except service.ContractNotFound as error:
        err.print(f"[red]not found[/]: {error}")
        raise typer.Exit(1) from None
    except (ConnectionError, PortInUse) as error:
        err.print(f"[red]error[/]: {error}")
        raise typer.Exit(1) from None


def _setup_logging(default: str = "json") -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format or default)  # type: ignore[arg-type]
    configure_temporal_runtime()


def _print_json(value: Any) -> None:
    out.print_json(json.dumps(value, default=str, ensure_ascii=False))


@app.command()
def dev() -> None:
    """Run everything locally: Temporal dev server + Web UI, embedded PostgreSQL, worker and HTTP API."""
    from pacte.dev import run_dev

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format or "console")
    configure_temporal_runtime()
    _run(lambda: run_dev(settings, out))


@app.command()
def worker() -> None:
    """Run a Temporal worker against the configured Temporal and PostgreSQL (production)."""
    _setup_logging()
    settings = get_settings()

    async def main() -> None:
        async with open_store(settings) as store:
            client = await connect_temporal(settings, attempts=60)
            await build_worker(
                client, store, settings.task_queue, max_cached_workflows=settings.worker_max_cached_workflows
            ).run()

    _run(main)


@app.command()
def api() -> None:
    """Run the HTTP API against the configured Temporal and PostgreSQL (production)."""
    import uvicorn

    from pacte.api import create_app

    _setup_logging()
    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_config=None)


@app.command()
def migrate() -> None:
    """Apply the event store's migrations (the worker and API also do it at start)."""
    _setup_logging()

    async def main() -> None:
        async with open_store(get_settings()):
            out.print("migrations applied")

    _run(main)


@app.command()
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
    identity: Annotated[str, typer.Option("--as", help="Who proposes (a préfet)")] = os.environ.get("USER", "prefet"),
    scope: Annotated[str, typer.Option(help="The préfet's départements, comma-separated, or *")] = "*",
    request_id: Annotated[str | None, typer.Option(help="Idempotency key; a new one by default")] = None,
    as_json: JsonOption = False,
) -> None:
    """The préfet proposes a contract to a territory: starts its workflow and records ContractProposed."""
    _setup_logging()
    settings = get_settings()
    try:
        cents = parse_euros(ceiling)
    except MoneyFormatError as exc:
        err.print(f"[red]refused[/] (invalid_value): ceiling: {exc}")
        raise typer.Exit(1) from None
    command = ProposeContract(
        contract_id=contract_id_for(territory),
        actor=Actor(role=Role.PREFET, identity=identity, scope=tuple(s.strip() for s in scope.split(","))),
        request_id=request_id or str(uuid.uuid4()),
        at=datetime.now(UTC),
        territory_id=territory,
        annual_ceiling=cents,
    )

    async def main() -> service.ProposeOutcome:
        client = await connect_temporal(settings)
        return await service.propose(client, settings.task_queue, command)

    outcome = _run(main)
    if as_json:
        _print_json({"contract_id": outcome.contract_id, "created": outcome.created})
    elif outcome.created:
        out.print(
            f"[green]proposed[/] {outcome.contract_id}: {REFERENCE_TERRITORIES[territory].name}, "
            f"annual ceiling {format_euros(cents)} — event ContractProposed recorded"
        )
    else:
        out.print(f"[yellow]exists[/] {outcome.contract_id} already exists; nothing was changed")


@contract_app.command("show")
def contract_show(contract_id: str, as_json: JsonOption = False) -> None:
    """Print a contract's current state, as its workflow holds it."""
    _setup_logging()
    settings = get_settings()

    async def main() -> Any:
        client = await connect_temporal(settings)
        return await service.current_state(client, contract_id)

    state = _run(main)
    if as_json:
        _print_json(state.model_dump(mode="json", exclude={"request_ids"}))
        return
    table = Table(show_header=False, title=contract_id)
    table.add_row("status", state.status)
    table.add_row("territory", f"{state.territory_name} ({state.territory_id})")
    table.add_row("kind", str(state.kind))
    table.add_row("annual ceiling", format_euros(state.annual_ceiling))
    table.add_row("version", str(state.version))
    out.print(table)


@audit_app.command("history")
def audit_history(contract_id: str, as_json: JsonOption = False) -> None:
    """Print the stored events of a contract: who, what, when."""
    _setup_logging()
    settings = get_settings()

    async def main() -> Any:
        async with open_store(settings) as store:
            return await service.history(store, contract_id)

    events = _run(main)
    if as_json:
        _print_json([e.model_dump(mode="json", exclude={"prev_hash", "hash"}) for e in events])
        return
    table = Table("v", "event", "who", "occurred (business)", "recorded", title=f"{contract_id}: {len(events)} events")
    for e in events:
        actor = e.metadata.get("actor", {})
        table.add_row(
            str(e.version),
            e.event_type,
            f"{actor.get('identity')} ({actor.get('role')})",
            f"{e.occurred_at:%Y-%m-%d %H:%M}",
            f"{e.recorded_at:%Y-%m-%d %H:%M:%S}",
        )
    out.print(table)


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        Path | None, typer.Option(help="An anchor from `pacte audit anchor`: also catches deleted streams, cut tails")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute every event's hash and chain. Exit 0 when intact; 1 naming the first bad stream and version."""
    from eventstore.integrity import Anchor, verify

    _setup_logging()
    loaded = Anchor.model_validate_json(anchor.read_text()) if anchor else None

    async def main() -> Any:
        async with open_store(get_settings()) as store, store.pool.acquire() as conn:
            return await verify(conn, loaded)

    report = _run(main)
    if as_json:
        _print_json(report.model_dump(mode="json"))
    elif report.ok:
        out.print(
            f"[green]intact[/]: {report.events} events in {report.streams} streams"
            + (", anchor matched" if anchor else "")
        )
    else:
        problem = report.first_problem
        assert problem is not None
        err.print(f"[red]TAMPERED[/]: stream {problem.stream_id}, version {problem.version}: {problem.reason}")
    raise typer.Exit(0 if report.ok else 1)


@audit_app.command("anchor")
def audit_anchor(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout")] = None,
) -> None:
    """Print a digest of all stream heads; keep it outside the database, and check it later with verify --anchor."""
    from eventstore.integrity import take_anchor

    _setup_logging()

    async def main() -> Any:
        async with open_store(get_settings()) as store, store.pool.acquire() as conn:
            return await take_anchor(conn)

    anchor = _run(main)
    text = anchor.model_dump_json(indent=2)
    if output:
        output.write_text(text + "\n")
        err.print(f"anchor of {len(anchor.streams)} streams written to {output} (digest {anchor.digest[:16]}…)")
    else:
        print(text)


@app.command()
def simulate(
    territories: Annotated[str, typer.Option(help="all | metropoles | departements | N (a seeded sample)")] = "10",
    seed: Annotated[int, typer.Option(help="Seed of the random but realistic programme")] = 2024,
    as_json: JsonOption = False,
) -> None:
    """Run the whole 2024–2027 programme on the time-skipping Temporal test server, then verify the event store."""
    from rich.progress import Progress

    from pacte.simulate import simulate as run

    settings = get_settings()
    configure_logging("WARNING", settings.log_format or "console")
    configure_temporal_runtime()
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("simulating 2024–2027", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = _run(lambda: run(settings, territories, seed, advance))
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        table = Table(show_header=False, title="simulation 2024–2027")
        for key, value in result.items():
            if key != "refusals":
                table.add_row(key, str(value))
        out.print(table)
        for line in result["refusals"]:
            err.print(f"[yellow]refused[/] {line}")
    raise typer.Exit(0 if result["verify"] == "ok" and not result["refused"] else 1)


tokens_app = typer.Typer(help="API bearer tokens (local administration).", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


@tokens_app.command("add")
def tokens_add(
    role: Annotated[Role, typer.Option(help="prefet, collectivite, commissaire or auditor")],
    identity: Annotated[str, typer.Option(help="Who holds it, e.g. prefecture-gironde")],
    scope: Annotated[
        str,
        typer.Option(help="Départements (préfet), SIREN or D-code (collectivité), région (commissaire), * (national)"),
    ] = "",
    days: Annotated[int, typer.Option(help="Days before it expires")] = 365,
) -> None:
    """Create a token; it is printed once, and only its hash is kept in PACTE_TOKENS_FILE."""
    from pacte import tokens

    settings = get_settings()
    if role is Role.COLLECTIVITE and "*" in scope:
        err.print("[red]refused[/] (invalid_value): scope: a collectivité acts only for itself, never nationally")
        raise typer.Exit(1)
    try:
        actor = Actor(role=role, identity=identity, scope=tuple(x.strip() for x in scope.split(",") if x.strip()))
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


projections_app = typer.Typer(help="Read models derived from the events.", no_args_is_help=True)
app.add_typer(projections_app, name="projections")


@projections_app.command("rebuild")
def projections_rebuild() -> None:
    """Drop the read models and derive them again from the events (gives exactly the same rows)."""
    from eventstore.projections import rebuild

    _setup_logging()

    async def main() -> int:
        async with open_store(get_settings()) as store, store.pool.acquire() as conn:
            return await rebuild(conn)

    out.print(f"rebuilt the projections of {_run(main)} contracts")


def main() -> None:
    app()
