"""The local OpenID provider `pacte dev` runs beside the stack when Node is there: ProConnect-shaped (its claims,
userinfo signed as a JWT, RP-initiated logout), knowing the demo persons, so a newcomer signs in as each role through
the same flow as a real agent. Without Node (or its package installed by `make run`), the demo sign-in alone."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from pacte.embedded import die_with_parent
from pacte.settings import Settings
from pacte.web.signin import demo_identities

HERE = Path(__file__).parent / "oidc_provider"
CLIENT_ID = "pacte-dev"


def demo_people() -> dict[str, dict[str, str]]:
    people = {}
    for identity in demo_identities():
        person = identity.actor.person
        assert person is not None
        given, _, usual = person.name.partition(" ")
        people[person.sub] = {
            "email": person.email or "",
            "given_name": given,
            "usual_name": usual,
            "uid": person.sub,
            "organizational_unit": identity.organisation,
        }
    return people


def available() -> bool:
    return shutil.which("node") is not None and (HERE / "node_modules" / "oidc-provider").exists()


def ready(issuer: str, process: subprocess.Popen[Any], seconds: float) -> bool:
    """Whether the provider serves its discovery document within ``seconds`` (False once its process has ended)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def start(settings: Settings, port: int) -> tuple[subprocess.Popen[bytes], Settings]:
    """Start the provider; return it and the settings that sign in through it."""
    secret = secrets.token_urlsafe(24)
    base = settings.public_url or f"http://{settings.api_host}:{settings.api_port}"
    log = os.fdopen(
        os.open(settings.data_dir / "oidc-provider.log", os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600), "ab"
    )
    process = subprocess.Popen(
        [shutil.which("node") or "node", "provider.js"],
        cwd=HERE,
        env=os.environ
        | {
            "PORT": str(port),
            "CLIENT_ID": CLIENT_ID,
            "CLIENT_SECRET": secret,
            "REDIRECT_URI": f"{base}/ui/oidc/retour",
            "POST_LOGOUT_REDIRECT_URI": f"{base}/ui/connexion",
            "PEOPLE": json.dumps(demo_people()),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches `pacte dev`, which stops it in order
        preexec_fn=die_with_parent,  # and a `kill -9` of `pacte dev` takes it along
    )
    issuer = f"http://127.0.0.1:{port}"
    if not ready(issuer, process, 20):
        process.kill()
        raise ConnectionError(
            f"the local OpenID provider did not start (see {settings.data_dir / 'oidc-provider.log'})"
        )
    return process, settings.model_copy(
        update={"oidc_issuer": issuer, "oidc_client_id": CLIENT_ID, "oidc_client_secret": SecretStr(secret)}
    )
