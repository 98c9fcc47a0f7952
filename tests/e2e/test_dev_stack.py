"""`pacte dev` as a user runs it: starts every part, serves the API, stops cleanly on Ctrl-C, and is durable."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

HTTP_TIMEOUT_S = 60  # httpx waits 5 s by default: a loaded machine answers later, a broken one never
PACTE = str(Path(sys.executable).parent / "pacte")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dev_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACTE_")}
    env.update(
        PACTE_DATA_DIR=str(tmp_path / "data"),
        PACTE_DEV_TEMPORAL_PORT=str(free_port()),
        PACTE_DEV_UI_PORT=str(free_port()),
        PACTE_API_PORT=str(free_port()),
        PACTE_DEV_OIDC_PORT=str(free_port()),
        PACTE_LOG_LEVEL="WARNING",
    )
    return env


def start_dev(env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [PACTE, "dev"], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    deadline = time.monotonic() + 90
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Press Ctrl-C" in line:
            return process, "".join(lines)
    process.kill()
    raise AssertionError("pacte dev did not start:\n" + "".join(lines))


def stop_dev(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=60)
    return rest


def cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PACTE, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_dev_runs_everything_stops_cleanly_and_is_durable(dev_env: dict[str, str], tmp_path: Path) -> None:
    process, banner = start_dev(dev_env, tmp_path)
    try:
        assert f"http://127.0.0.1:{dev_env['PACTE_DEV_UI_PORT']}" in banner
        assert f"http://127.0.0.1:{dev_env['PACTE_API_PORT']}/docs" in banner
        api = f"http://127.0.0.1:{dev_env['PACTE_API_PORT']}"
        assert httpx.get(timeout=HTTP_TIMEOUT_S, url=f"{api}/health").json() == {"status": "ok"}
        assert f"{api}/ready" in banner and f"{api}/metrics" in banner
        assert (
            "temporal_worker_task_slots_available" in httpx.get(timeout=HTTP_TIMEOUT_S, url=f"{api}/metrics").text
        )  # the SDK's, served too
        status = cli({**dev_env, "PACTE_API_URL": api}, tmp_path, "status")
        assert status.returncode == 0 and "ready" in status.stdout, status.stdout + status.stderr
        assert httpx.get(timeout=HTTP_TIMEOUT_S, url=f"{api}/openapi.json").status_code == 200
        token = next(line.split()[-1] for line in banner.splitlines() if line.strip().startswith("prefet "))
        dev_env = {**dev_env, "PACTE_TOKEN": token, "PACTE_API_URL": f"http://127.0.0.1:{dev_env['PACTE_API_PORT']}"}
        proposed = cli(dev_env, tmp_path, "contract", "propose", "--territory", "D33", "--ceiling", "900 000")
        assert proposed.returncode == 0, proposed.stdout + proposed.stderr
        # The API answers the same contract, to the demo préfet of the Gironde it printed.
        assert httpx.get(timeout=HTTP_TIMEOUT_S, url=f"{api}/contracts/cls-d33").status_code == 401
        shown = httpx.get(
            timeout=HTTP_TIMEOUT_S, url=f"{api}/contracts/cls-d33", headers={"Authorization": f"Bearer {token}"}
        )
        assert shown.json()["status"] == "PROPOSED"
        # The web interface: the demo identities sign in, and the préfet sees the contract in French.
        assert f"{api}/ui/" in banner
        with httpx.Client(base_url=api, follow_redirects=True, timeout=HTTP_TIMEOUT_S) as web:
            signin = web.get("/ui/connexion")
            assert "Se connecter comme préfet" in signin.text
            # The local OpenID provider, ProConnect-shaped, knows the demo persons (make test installs it).
            issuer = f"http://127.0.0.1:{dev_env['PACTE_DEV_OIDC_PORT']}"
            assert issuer in banner and "S'identifier avec ProConnect" in signin.text
            assert (
                httpx.get(timeout=HTTP_TIMEOUT_S, url=f"{issuer}/.well-known/openid-configuration").json()["issuer"]
                == issuer
            )
            csrf = signin.text.split('name="csrf_token" value="')[1].split('"')[0]
            page = web.post("/ui/connexion", data={"identity": "prefet", "csrf_token": csrf, "next": "/ui/contrats"})
            assert "Gironde" in page.text and "Proposé" in page.text
            assert "swagger-ui-bundle.js" in web.get("/docs").text
        # Temporal's Web UI reads payloads through Pacte's codec endpoint (behind Pacte's sign-in), and the data
        # directory and its keyring are private.
        ui = f"http://127.0.0.1:{dev_env['PACTE_DEV_UI_PORT']}"
        codec = httpx.get(timeout=HTTP_TIMEOUT_S, url=f"{ui}/api/v1/settings").json()["Codec"]
        assert codec["Endpoint"] == f"{api}/ui/codec", codec
        preflight = httpx.options(timeout=HTTP_TIMEOUT_S, url=f"{api}/ui/codec/decode", headers={"origin": ui})
        assert preflight.headers["access-control-allow-origin"] == ui
        data = Path(dev_env["PACTE_DATA_DIR"])
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert stat.S_IMODE((data / "keyring.json").stat().st_mode) == 0o600
    finally:
        rest = stop_dev(process)
    assert process.returncode == 0, rest
    assert "Stopped." in rest
    for port in ("PACTE_DEV_TEMPORAL_PORT", "PACTE_DEV_OIDC_PORT"):  # every child let go of its port
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", int(dev_env[port])))

    # A second run finds the first one's workflows and events, and prints the same demo tokens.
    process, banner = start_dev(dev_env, tmp_path)
    token = next(line.split()[-1] for line in banner.splitlines() if line.strip().startswith("prefet "))
    dev_env = {**dev_env, "PACTE_TOKEN": token, "PACTE_API_URL": f"http://127.0.0.1:{dev_env['PACTE_API_PORT']}"}
    try:
        shown = cli(dev_env, tmp_path, "contract", "show", "cls-d33", "--json")
        assert shown.returncode == 0 and '"PROPOSED"' in shown.stdout
        history = cli(dev_env, tmp_path, "audit", "history", "cls-d33", "--json")
        assert history.returncode == 0
        assert [e["event_type"] for e in json.loads(history.stdout)] == ["ContractProposed"]  # to the préfet
        # The nightly verify and the reminders relay are Temporal Schedules, made by the first start: the second
        # start found them (one of each, active).
        schedules = cli(dev_env, tmp_path, "schedules", "--json")
        assert schedules.returncode == 0, schedules.stdout + schedules.stderr
        described = json.loads(schedules.stdout)
        assert sorted((s["id"], s["paused"]) for s in described) == [
            ("pacte-reminder-relay", False),
            ("pacte-store-verify", False),
        ]
    finally:
        stop_dev(process)


def test_a_port_in_use_gives_a_clear_error(dev_env: dict[str, str], tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", int(dev_env["PACTE_API_PORT"])))
        busy.listen()
        result = subprocess.run([PACTE, "dev"], env=dev_env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"port {dev_env['PACTE_API_PORT']}" in result.stdout + result.stderr
    assert "already in use" in result.stdout + result.stderr
