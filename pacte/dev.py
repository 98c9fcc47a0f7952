"""`pacte dev`: the whole service on one machine, from PyPI packages only.

Temporal dev server (persisting to .pacte/temporal.db, Web UI), embedded PostgreSQL (.pacte/pgdata), migrations,
then a worker and the HTTP API in this process. Ctrl-C stops everything in order; a second run finds the first's data.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
from datetime import UTC, datetime

import structlog
from rich.console import Console

from pacte import dev_oidc, tokens
from pacte.app import create_app
from pacte.embedded import check_port_free, private_dir, start_temporal_dev_server
from pacte.http_server import server_config
from pacte.runtime import QuietServer, connect_temporal, on_stop_signals, open_store, stop_embedded_now, worker_for
from pacte.service.admin import SEARCH_ATTRIBUTE_TYPES, check_search_attributes, start_schedules
from pacte.service.facade import Pacte
from pacte.service.health import NotReady, ready_within
from pacte.settings import Settings
from pacte.web.signin import demo_grants

READY_WITHIN_S = 60.0  # how long `pacte dev` waits for the worker's first poll before saying what is not ready

log = structlog.stdlib.get_logger("pacte.dev")


def _stop_process(process: subprocess.Popen[bytes], timeout: float = 5) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def demo_tokens(settings: Settings) -> dict[str, str]:
    """One token per role for the walkthrough, kept (in clear) under data_dir only, 0600; renewed once expired (a
    demo token lives 30 days), so a stack started again next month still prints tokens that work."""
    path = settings.data_dir / "demo-tokens.json"
    now = datetime.now(UTC)
    if path.exists():
        kept = dict(json.loads(path.read_text()))
        known = tokens.load(settings.tokens_path())
        if set(kept) == set(tokens.DEMO) and all(tokens.valid(known, t, now) for t in kept.values()):
            return kept
    created = {
        role: tokens.add(settings.tokens_path(), actor, days=30, now=now)[0] for role, actor in tokens.DEMO.items()
    }
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)  # private from the first byte
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(created, indent=2))
    os.chmod(path, 0o600)
    return created


def _loopback(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def prepare_data_dir(settings: Settings) -> None:
    """The data directory, private (0700) before anything is written in it, and the dev keyring in it (0600, made on
    first start: it seals the dev server's payloads, signs the sessions and the anchors)."""
    private_dir(settings.data_dir)
    settings.load_keyring()


async def run_dev(settings: Settings, console: Console) -> None:
    # The demo identities may sign in to the web interface here, and only here. The dev server's Web UI reads payloads
    # through Pacte's codec endpoint, as the signed-in person (an auditor).
    ui_origin = f"http://127.0.0.1:{settings.dev_ui_port}"
    settings = settings.model_copy(
        update={"demo_sign_in": True, "temporal_ui_origin": settings.temporal_ui_origin or ui_origin}
    )
    temporal: subprocess.Popen[bytes] | None = None
    if settings.temporal_address is None:
        check_port_free("127.0.0.1", settings.dev_temporal_port, "Temporal dev server")
        check_port_free("127.0.0.1", settings.dev_ui_port, "Temporal Web UI")
    check_port_free(settings.api_host, settings.api_port, "HTTP API")

    prepare_data_dir(settings)
    stop = asyncio.Event()
    temporal_box: list[subprocess.Popen[bytes]] = []
    provider: subprocess.Popen[bytes] | None = None

    def hard_stop() -> None:  # a second Ctrl-C: no child outlives us
        for process in temporal_box:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        stop_embedded_now()

    remove_handlers = on_stop_signals(stop, hard_stop)

    try:
        if settings.temporal_address is None:
            temporal = start_temporal_dev_server(
                settings.data_dir,
                settings.dev_temporal_port,
                settings.dev_ui_port,
                settings.temporal_namespace,
                SEARCH_ATTRIBUTE_TYPES if settings.temporal_search_attributes else None,
                codec_endpoint=f"http://{_loopback(settings.api_host)}:{settings.api_port}/ui/codec",
            )
            temporal_box.append(temporal)
            log.info("temporal dev server starting", pid=temporal.pid, db=str(settings.data_dir / "temporal.db"))
        demo_grants(settings)  # the demo persons on the access list, like the demo tokens
        demo = demo_tokens(settings)
        # Written before the store opens: the owner brings the files' grants and tokens into PostgreSQL there (the
        # runtime role the service then uses gives no grant: migration 012).
        async with open_store(settings, import_credentials=True) as store:
            log.info("event store ready (migrations applied)")
            client = await connect_temporal(settings, attempts=120)
            await check_search_attributes(client, settings)
            await start_schedules(client, settings)
            worker = worker_for(client, store, settings)
            if settings.oidc_issuer is None and dev_oidc.available():
                check_port_free("127.0.0.1", settings.dev_oidc_port, "local OpenID provider")
                provider, settings = await asyncio.to_thread(dev_oidc.start, settings, settings.dev_oidc_port)
                temporal_box.append(provider)  # stopped with the others, killed on a second Ctrl-C
            service = Pacte(client=client, store=store, settings=settings, credentials_imported=True)
            app = create_app(settings, service=service)
            server = QuietServer(
                server_config(
                    app,
                    settings,
                    host=settings.api_host,
                    port=settings.api_port,
                    lifespan="on",
                    timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_s)),
                )
            )
            async with worker:
                serving = asyncio.create_task(server.serve())
                while not server.started and not serving.done():  # noqa: ASYNC110 (uvicorn exposes a flag only)
                    await asyncio.sleep(0.05)
                if serving.done():
                    await serving
                    raise RuntimeError("the HTTP API could not start")
                api = f"http://{settings.api_host}:{settings.api_port}"
                # "Running" means ready: the worker's first poll reaches Temporal a moment after it starts (longer
                # on a loaded machine), and a command sent before it would wait for it.
                found = await ready_within(service, READY_WITHIN_S)
                if not found.ready:
                    console.print(f"[yellow]Not ready after {READY_WITHIN_S:.0f} s:[/] {NotReady.of(found).message}")
                console.print(f"[bold green]Pacte is running.[/]  Task queue [cyan]{settings.task_queue}[/]")
                if temporal is not None:
                    console.print(
                        f"  Temporal Web UI  {ui_origin}  (payloads sealed; signed in to the web interface as the "
                        "auditor, tick «Include cross-origin credentials» in its codec settings to read them)"
                    )
                console.print(f"  Temporal         {settings.temporal_target()}")
                console.print(f"  Web interface    {api}/ui/  (sign in as any demo identity)")
                if provider is not None:
                    console.print(
                        f"  OpenID provider  {settings.oidc_issuer}  (ProConnect-shaped; log in as "
                        + ", ".join(dev_oidc.demo_people())
                        + ")"
                    )
                console.print(f"  API docs         {api}/docs")
                console.print(f"  Readiness        {api}/ready   (pacte status)")
                console.print(f"  Metrics          {api}/metrics (Prometheus: Pacte's and the Temporal SDK's)")
                console.print("  Demo tokens (Authorization: Bearer …; or PACTE_TOKEN for the CLI):")
                for role, token in demo.items():
                    console.print(f"    {role:<13} {token}")
                console.print("  Press Ctrl-C to stop.")
                await stop.wait()
                console.print("Stopping: API, worker, Temporal, PostgreSQL…")
                server.should_exit = True
                # The API's requests and the worker's activities get their grace side by side, not one after the other.
                await asyncio.gather(serving, worker.shutdown())
    finally:
        if provider is not None:
            await asyncio.to_thread(_stop_process, provider)
        if temporal is not None:
            await asyncio.to_thread(_stop_process, temporal)
        remove_handlers()
    console.print("Stopped.")
