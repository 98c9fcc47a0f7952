"""Running the service: everything locally (dev), or its parts (worker, api, migrate) in production."""

from __future__ import annotations

import typer

from pacte.cli.common import JsonOption, _print_json, _run, _setup_logging, out
from pacte.logging import configure_logging
from pacte.runtime import configure_temporal_runtime
from pacte.service import admin
from pacte.settings import get_settings
from pacte.tracing import configure_tracing


def dev() -> None:
    """Run everything locally: Temporal dev server + Web UI, embedded PostgreSQL, worker and HTTP API."""
    from pacte.dev import run_dev

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format or "console")
    configure_temporal_runtime()
    configure_tracing(settings)
    _run(lambda: run_dev(settings, out))


def worker() -> None:
    """Run a Temporal worker against the configured Temporal and PostgreSQL (production)."""
    _setup_logging()
    settings = get_settings()

    _run(lambda: admin.run_worker(settings))


def api() -> None:
    """Run the HTTP API against the configured Temporal and PostgreSQL (production)."""
    import asyncio

    import uvicorn

    from pacte.app import create_app
    from pacte.http_server import server_config
    from pacte.metrics import worker_app
    from pacte.runtime import QuietServer

    _setup_logging()
    settings = get_settings()
    # uvicorn stops on SIGINT or SIGTERM: requests in flight get shutdown_grace_s, then are cancelled (a request
    # waiting on a stuck contract included); a second Ctrl-C stops at once.
    main = uvicorn.Server(
        server_config(
            create_app(settings),
            settings,
            host=settings.api_host,
            port=settings.api_port,
            timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_s)),
        )
    )
    if settings.metrics_port is None:
        main.run()
        return
    metrics_port = settings.metrics_port

    async def with_metrics() -> None:
        # Prometheus scrapes this port (never published); the API's own port serves /metrics to loopback only.
        metrics = QuietServer(server_config(worker_app(), settings, host=settings.api_host, port=metrics_port))
        serving = asyncio.create_task(metrics.serve())
        try:
            await main.serve()
        finally:
            metrics.should_exit = True
            await serving

    asyncio.run(with_metrics())


def migrate() -> None:
    """Apply the event store's migrations (the worker and API also do it at start)."""
    _setup_logging()

    _run(lambda: admin.migrate(get_settings()))
    out.print("migrations applied")


def search_attributes() -> None:
    """Register the contracts' search attributes (status, territory, kind, région, year) on the Temporal namespace,
    once per cluster, so its Web UI lists and filters contracts by them. `pacte dev` registers them itself."""
    _setup_logging()
    added = _run(lambda: admin.register_search_attributes(get_settings()))
    out.print(f"registered: {', '.join(added)}" if added else "already registered")


def replay_check(
    limit: int = typer.Option(200, help="How many runs to replay: the open ones first, then the latest closed"),
    query: str | None = typer.Option(None, help="A Temporal visibility query instead of every Pacte workflow"),
) -> None:
    """Replay the cluster's histories against this build before deploying it: exit 0 when every run replays, 1 when
    one does not (each named, with the error). A step of every release (README, "Deploying a new version")."""
    from pacte.runtime import connect_temporal

    async def check() -> admin.ReplayReport:
        client = await connect_temporal(get_settings(), attempts=5)
        return await admin.replay_check(client, query=query, limit=limit)

    report = _run(check)
    out.print_json(report.model_dump_json())
    if not report.ok:
        raise typer.Exit(1)


def schedules(as_json: JsonOption = False) -> None:
    """The service's Temporal Schedules (the nightly verify, the reminders relay): paused or not, runs so far, the
    last and the next. `pacte worker` and `pacte dev` create them at start."""
    from rich.table import Table

    from pacte.runtime import connect_temporal
    from pacte.service.schedules import ScheduleView, describe_schedules

    async def describe() -> list[ScheduleView]:
        return await describe_schedules(await connect_temporal(get_settings(), attempts=5))

    views = _run(describe)
    if as_json:
        _print_json([view.model_dump(mode="json") for view in views])
        return
    table = Table("schedule", "workflow", "state", "runs", "last run", "next run", title="Temporal Schedules")
    for view in views:
        table.add_row(
            view.id,
            view.workflow,
            "paused" if view.paused else "active",
            str(view.runs),
            f"{view.last_run:%Y-%m-%d %H:%M} UTC" if view.last_run else "-",
            f"{view.next_runs[0]:%Y-%m-%d %H:%M} UTC" if view.next_runs else "-",
        )
    out.print(table if views else "no schedule yet: `pacte worker` (or `pacte dev`) creates them at start")
