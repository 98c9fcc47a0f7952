"""What every HTTP answer carries, and what a hostile client cannot do to the listeners: headers that forbid framing,
sniffing and foreign scripts; bodies over the limit refused whatever their encoding; slow clients cut; /metrics kept
to this machine (issue 25, items 9 and 12)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from domain.actors import Actor, Role
from eventstore.store import EventStore
from pacte.api.errors import MAX_BODY_BYTES
from pacte.app import create_app
from pacte.http_server import server_config
from pacte.runtime import QuietServer
from pacte.service.facade import Pacte
from pacte.settings import Settings
from tests.integration.helpers import auth

pytestmark = pytest.mark.integration

ACTORS = {"prefet": Actor(role=Role.PREFET, identity="prefecture-hardening", scope=("33",))}


@pytest.fixture(scope="module")
async def app_and_settings(
    tokens_file: tuple[Path, dict[str, str]], client: Client, store: EventStore, task_queue: str, tmp_path_factory
) -> AsyncIterator[tuple[object, Settings, dict[str, str]]]:  # type: ignore[no-untyped-def]
    path, issued = tokens_file
    settings = Settings(
        tokens_file=path,
        task_queue=task_queue,
        data_dir=tmp_path_factory.mktemp("hardening"),
        http_body_timeout_s=2,
        http_header_timeout_s=1,
    )
    app = create_app(settings, service=Pacte(client=client, store=store, settings=settings))
    async with app.router.lifespan_context(app):
        yield app, settings, issued


def http(app: object, client: tuple[str, int] = ("127.0.0.1", 40000)) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=client), base_url="http://pacte")  # type: ignore[arg-type]


async def test_every_answer_carries_the_security_headers(app_and_settings) -> None:  # type: ignore[no-untyped-def]
    app, _, issued = app_and_settings
    async with http(app) as client:
        answers = {
            "api": await client.get("/territories", headers=auth(issued, "prefet")),
            "refusal": await client.get("/contracts"),  # 401
            "web": await client.get("/ui/connexion"),
            "static": await client.get("/ui/static/pacte.css"),
        }
        docs = await client.get("/docs")
    for name, answer in answers.items():
        headers = answer.headers
        policy = headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy, name
        assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0], name
        assert headers.get("x-frame-options") == "DENY", name
        assert headers.get("x-content-type-options") == "nosniff", name
        assert headers.get("referrer-policy") == "same-origin", name
        assert "strict-transport-security" not in headers, name  # plain HTTP here: HSTS only behind TLS
    assert docs.status_code == 200 and "frame-ancestors 'none'" in docs.headers["content-security-policy"]


async def test_behind_tls_browsers_are_told_to_stay_on_https(app_and_settings) -> None:  # type: ignore[no-untyped-def]
    _, settings, _ = app_and_settings
    from pacte.api import create_app as create_api

    app = create_api(settings.model_copy(update={"secure_cookies": True}))
    async with http(app) as client:
        answer = await client.get("/health")
    assert answer.headers["strict-transport-security"].startswith("max-age=63072000")


async def test_a_chunked_body_over_the_limit_is_413_and_reaches_no_route(app_and_settings) -> None:  # type: ignore[no-untyped-def]
    app, _, issued = app_and_settings
    chunk = b" " * 65536

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"territory_id": "D33", "annual_ceiling": 100, "pad": "'
        for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
            yield chunk
        yield b'"}'

    async with http(app) as client:
        # The session's store holds other tests' contracts (cls-d33 among them): what counts is that nothing changes.
        listed = client.get("/contracts", headers=auth(issued, "prefet"))
        before = {c["contract_id"] for c in (await listed).json()}
        answer = await client.post("/contracts", content=chunks(), headers=auth(issued, "prefet"))
        assert answer.status_code == 413, answer.text
        assert answer.json()["code"] == "too_large"
        # Under the limit, chunked, the same route reads the body as usual (and refuses it for its content).
        small = await client.post(
            "/contracts",
            content=_once(b'{"territory": 1}'),
            headers={**auth(issued, "prefet"), "Content-Type": "application/json"},
        )
        assert small.status_code == 422 and small.json()["field"], small.text
        after = {c["contract_id"] for c in (await client.get("/contracts", headers=auth(issued, "prefet"))).json()}
        assert after == before  # no contract proposed (their rows' contents may move with their timers)


async def _once(body: bytes) -> AsyncIterator[bytes]:
    yield body


async def test_a_body_that_never_comes_gets_408(app_and_settings) -> None:  # type: ignore[no-untyped-def]
    app, _, issued = app_and_settings
    never = asyncio.Event()

    async def stalled() -> AsyncIterator[bytes]:
        yield b'{"territory_id": '
        await never.wait()  # a slowloris: the rest never comes
        yield b"}"

    async with http(app) as client, asyncio.timeout(60):  # the body timeout is 2 s: a hang is a failure
        answer = await client.post("/contracts", content=stalled(), headers=auth(issued, "prefet"))
    assert answer.status_code == 408 and answer.json()["code"] == "timeout", answer.text


async def test_metrics_answer_this_machine_only(app_and_settings) -> None:  # type: ignore[no-untyped-def]
    app, _, _ = app_and_settings
    async with http(app, client=("203.0.113.9", 40000)) as outside:
        assert (await outside.get("/metrics")).status_code == 404
    async with http(app) as local:
        assert "pacte_events_appended_total" in (await local.get("/metrics")).text


async def test_a_client_slow_to_send_its_headers_is_cut_and_others_are_served(app_and_settings) -> None:  # type: ignore[no-untyped-def]
    app, settings, _ = app_and_settings
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = QuietServer(server_config(app, settings, host="127.0.0.1", port=port, lifespan="off"))
    serving = asyncio.create_task(server.serve())
    slow: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        async with asyncio.timeout(60):
            while not server.started:  # noqa: ASYNC110 (uvicorn exposes a flag only)
                await asyncio.sleep(0.05)
        for _ in range(20):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /ui/connexion HTTP/1.1\r\nHost: pacte\r\nX-Slow: ")  # and never the end of the headers
            await writer.drain()
            slow.append((reader, writer))
        # Within a generous deadline (the timeout is 1 s), the server has closed every one of them.
        async with asyncio.timeout(60):
            for reader, _ in slow:
                assert await reader.read() == b"", "a client that never finished its headers still holds a connection"
        # Meanwhile, and after, an honest client is served, on a kept-alive connection too.
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as honest:
            for _ in range(2):
                assert (await honest.get("/health")).json() == {"status": "ok"}
    finally:
        for _, writer in slow:
            writer.close()
        server.should_exit = True
        await serving


def test_the_dev_data_directory_and_temporal_files_are_private(tmp_path: Path) -> None:
    """Issue 25, item 12: Temporal's dev database holds persons' names and e-mails; under a permissive umask (root's
    022), the directory was 0755 and temporal.db 0644."""
    import os
    import stat
    import time

    from pacte.dev import _stop_process
    from pacte.embedded import start_temporal_dev_server

    def free() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)  # made earlier by someone else, world-readable
    previous = os.umask(0o022)
    try:
        process = start_temporal_dev_server(data, free(), free(), "default")
    finally:
        os.umask(previous)
    try:
        deadline = time.monotonic() + 120
        while not (data / "temporal.db").exists():
            assert time.monotonic() < deadline and process.poll() is None, "the dev server did not create its db"
            time.sleep(0.1)
    finally:
        _stop_process(process, timeout=30)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for found in data.iterdir():
        assert stat.S_IMODE(found.stat().st_mode) & 0o077 == 0, (found.name, oct(found.stat().st_mode))


def test_children_of_pacte_dev_die_with_it_and_a_restart_clears_a_crashs_leftovers(tmp_path: Path) -> None:
    """Issue 25, item 11: after ``kill -9`` of the process that started it, the Temporal dev server goes too (it
    held its ports, so `pacte dev` could not start again); a dead process left in the embedded PostgreSQL's list of
    users is cleared (it kept PostgreSQL running after every later Ctrl-C)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from pacte.embedded import clear_crash_leftovers

    data = tmp_path / "data"
    starter = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket, sys, time\n"
            "from pathlib import Path\n"
            "from pacte.embedded import start_temporal_dev_server\n"
            "def free():\n"
            "    s = socket.socket(); s.bind(('127.0.0.1', 0)); p = s.getsockname()[1]; s.close(); return p\n"
            "p = start_temporal_dev_server(Path(sys.argv[1]), free(), free(), 'default')\n"
            "print(p.pid, flush=True)\n"
            "time.sleep(600)\n",
            str(data),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert starter.stdout is not None
    child = int(starter.stdout.readline())
    os.kill(starter.pid, signal.SIGKILL)
    starter.wait()
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with open(f"/proc/{child}/stat") as stat_file:
                    state = stat_file.read().rsplit(")", 1)[-1].split()[0]
            except FileNotFoundError:
                break
            if state == "Z":  # a zombie awaiting its reaper holds no port
                break
            assert time.monotonic() < deadline, "the Temporal dev server outlived the process that started it"
            time.sleep(0.1)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)

    pgdata = data / "pgdata"
    pgdata.mkdir(parents=True)
    (pgdata / ".handle_pids.json").write_text(f"[{starter.pid}, {os.getpid()}]")  # the first died hard
    assert clear_crash_leftovers(data) == [f"stale handle pid {starter.pid}"]
    assert (pgdata / ".handle_pids.json").read_text() == f"[{os.getpid()}]"
