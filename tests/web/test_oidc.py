"""Sign-in through a real OpenID provider running locally (panva/oidc-provider on Node, configured like
ProConnect: its claims, userinfo signed as a JWT, RP-initiated logout): a préfecture agent and a collectivité agent
sign in and act within their scope; what cannot be trusted is refused with nobody signed in."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from base64 import b64decode, b64encode
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import itsdangerous
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from playwright.async_api import Browser as Chromium
from playwright.async_api import expect
from pydantic import SecretStr

from domain.actors import Actor, Role
from pacte import access, dev_oidc
from pacte.app import create_app
from pacte.service.facade import Pacte
from pacte.service.identity import SignInRefused, verify_userinfo_jwt
from tests.web.conftest import CSRF, Stack, free_port, serving

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parents[2] / "pacte" / "oidc_provider"
PEOPLE = {
    "marie-sub": {
        "email": "marie.dupont@gironde.gouv.fr",
        "given_name": "Marie",
        "usual_name": "Dupont",
        "uid": "1",
        "siret": "17330001300016",
        "organizational_unit": "Préfecture de la Gironde",
    },
    "karim-sub": {
        "email": "karim.benali@bordeaux-metropole.fr",
        "given_name": "Karim",
        "usual_name": "Benali",
        "uid": "2",
        "siret": "24330031600011",
    },
    "stranger-sub": {
        "email": "x@ailleurs.fr",
        "given_name": "Inconnu",
        "usual_name": "X",
        "uid": "3",
        "siret": "11111111111111",
    },
}
CLIENT_ID, CLIENT_SECRET = "pacte", "pacte-test-secret"
PEOPLE |= {
    "jeanne-sub": {
        "email": "jeanne.martin@cantal.gouv.fr",
        "given_name": "Jeanne",
        "usual_name": "Martin",
        "uid": "4",
        "siret": "17150001500013",
    },
    "paul-sub": {
        "email": "paul.roux@cantal.fr",
        "given_name": "Paul",
        "usual_name": "Roux",
        "uid": "5",
        "siret": "22150001600010",
    },
}


BROWSER_PORT = free_port()  # where the browser test serves Pacte: registered at the provider like any redirect URI
BROWSER_BASE = f"http://127.0.0.1:{BROWSER_PORT}"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    node = shutil.which("node")
    assert node and (HERE / "node_modules" / "oidc-provider").exists(), (
        "`make test` installs pacte/oidc_provider (npm ci)"
    )
    port = free_port()
    env = os.environ | {
        "PORT": str(port),
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URI": f"http://pacte/ui/oidc/retour,{BROWSER_BASE}/ui/oidc/retour",
        "POST_LOGOUT_REDIRECT_URI": f"http://pacte/ui/connexion,{BROWSER_BASE}/ui/connexion",
        "PEOPLE": json.dumps(PEOPLE),
    }
    process = subprocess.Popen(
        [node, "provider.js"], cwd=HERE, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    issuer = f"http://127.0.0.1:{port}"
    if not dev_oidc.ready(issuer, process, 30):
        process.kill()
        raise AssertionError("the OpenID provider did not start")
    yield issuer
    process.terminate()
    process.wait(10)


@pytest.fixture
async def pacte_oidc(provider: str, web_stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    settings = web_stack.settings.model_copy(
        update={
            "oidc_issuer": provider,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": SecretStr(CLIENT_SECRET),
            "demo_sign_in": False,
        }
    )
    path = settings.access_path()
    if not any(g.value == "17330001300016" for g in access.load(path).grants):
        access.grant(
            path,
            "siret",
            "17330001300016",
            Actor(role=Role.PREFET, identity="prefecture-gironde", scope=("33",)),
            by="test",
            organisation="Préfecture de la Gironde",
        )
        access.grant(
            path,
            "siren",
            "243300316",
            Actor(role=Role.COLLECTIVITE, identity="bordeaux-metropole", scope=("243300316",)),
            by="test",
            organisation="Bordeaux Métropole",
        )
    app = create_app(
        settings, service=Pacte(client=web_stack.pacte.client, store=web_stack.pacte.store, settings=settings)
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pacte") as http,
    ):
        yield http


async def to_provider(http: httpx.AsyncClient, who: str) -> str:
    """Start at Pacte, sign in at the provider as ``who`` (its dev interactions), and return Pacte's callback URL."""
    start = await http.get("/ui/oidc/connexion")
    assert start.status_code == 302
    url = start.headers["location"]
    query = parse_qs(urlsplit(url).query)
    assert query["state"] and query["nonce"] and query["redirect_uri"] == ["http://pacte/ui/oidc/retour"]
    async with httpx.AsyncClient() as browser:
        for _ in range(10):
            answer = await browser.get(url)
            while answer.status_code in (302, 303):
                url = urljoin(url, answer.headers["location"])
                if url.startswith("http://pacte/"):
                    return url
                answer = await browser.get(url)
            form = re.search(r'<form[^>]*action="([^"]+)"', answer.text)
            assert form, answer.text[:500]
            action = urljoin(url, form.group(1))
            data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', answer.text))
            if 'name="login"' in answer.text:
                data |= {"login": who, "password": "any"}
            answer = await browser.post(action, data=data)
            url = urljoin(action, answer.headers["location"])
            if url.startswith("http://pacte/"):
                return url
    raise AssertionError("the provider did not send back")


async def test_a_prefecture_agent_signs_in_acts_within_scope_and_signs_out(
    pacte_oidc: httpx.AsyncClient, web_stack: Stack
) -> None:
    http = pacte_oidc
    callback = await to_provider(http, "marie-sub")
    back = await http.get(callback.removeprefix("http://pacte"))
    assert back.status_code == 303 and back.headers["location"] == "/ui/a-traiter", back.text[:300]
    page = await http.get("/ui/contrats")
    assert "Marie Dupont" in page.text and "Préfecture de la Gironde" in page.text
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    # Within her scope: the proposal form offers the Gironde's territories, and only them (the Cantal's préfet
    # proposes a contract in the browser test below; nothing is written here, so other tests keep their territories).
    form = (await http.get("/ui/contrats/proposer")).text
    assert 'value="243300316"' in form and 'value="D33"' in form and 'value="D44"' not in form
    out_of_scope = await http.post(
        "/ui/contrats/proposer", data={"territory": "D44", "annual_ceiling": "1 000,00 €", "csrf_token": csrf}
    )
    assert out_of_scope.status_code == 422 and "périmètre" in out_of_scope.text
    signed_out = await http.post("/ui/deconnexion", data={"csrf_token": csrf})
    end = signed_out.headers["location"]
    assert signed_out.status_code == 303 and "/session/end?" in end and "id_token_hint=" in end
    assert (await http.get("/ui/contrats")).status_code == 303  # the session is over


async def test_a_collectivite_agent_is_mapped_by_siren(pacte_oidc: httpx.AsyncClient) -> None:
    http = pacte_oidc
    back = await http.get((await to_provider(http, "karim-sub")).removeprefix("http://pacte"))
    assert back.status_code == 303
    page = await http.get("/ui/contrats")
    assert "Karim Benali" in page.text and "Bordeaux Métropole" in page.text and "(Collectivité)" in page.text


async def test_an_unknown_person_is_refused(pacte_oidc: httpx.AsyncClient) -> None:
    http = pacte_oidc
    refused = await http.get((await to_provider(http, "stranger-sub")).removeprefix("http://pacte"))
    assert refused.status_code == 403 and "liste d&#39;accès" in refused.text
    assert (await http.get("/ui/contrats")).status_code == 303


async def test_a_wrong_state_and_a_replayed_code_are_refused(pacte_oidc: httpx.AsyncClient) -> None:
    http = pacte_oidc
    callback = await to_provider(http, "marie-sub")
    tampered = re.sub(r"state=[^&]+", "state=forged", callback)
    assert (await http.get(tampered.removeprefix("http://pacte"))).status_code == 403
    assert (await http.get("/ui/contrats")).status_code == 303  # nobody signed in
    # A code used once: keep the session that asked for it, use it, then replay it with that same session.
    callback = await to_provider(http, "marie-sub")
    saved = dict(http.cookies)
    assert (await http.get(callback.removeprefix("http://pacte"))).status_code == 303
    http.cookies.clear()
    for name, value in saved.items():
        http.cookies.set(name, value, path="/ui")
    assert (await http.get(callback.removeprefix("http://pacte"))).status_code == 403


def test_a_userinfo_signed_by_another_key_is_refused(provider: str) -> None:
    jwks = httpx.get(f"{provider}/jwks").json()
    forged_key = RSAKey.generate_key(2048, parameters={"kid": jwks["keys"][0]["kid"]})
    claims = {"iss": provider, "aud": CLIENT_ID, "sub": "marie-sub", "email": "marie.dupont@gironde.gouv.fr"}
    forged = jwt.encode({"alg": "RS256", "kid": jwks["keys"][0]["kid"]}, claims, forged_key)
    with pytest.raises(SignInRefused, match="signature"):
        verify_userinfo_jwt(forged, jwks, provider, CLIENT_ID, "marie-sub")
    # Signed by a key the provider publishes but about someone else, or for another client: refused too.
    genuine = RSAKey.generate_key(2048, parameters={"kid": "k2"})
    keys = {"keys": [genuine.as_dict(private=False)]}
    other = jwt.encode({"alg": "RS256", "kid": "k2"}, claims | {"sub": "karim-sub"}, genuine)
    with pytest.raises(SignInRefused, match="about this person"):
        verify_userinfo_jwt(other, keys, provider, CLIENT_ID, "marie-sub")
    ok = jwt.encode({"alg": "RS256", "kid": "k2"}, claims, genuine)
    assert verify_userinfo_jwt(ok, keys, provider, CLIENT_ID, "marie-sub")["email"] == "marie.dupont@gironde.gouv.fr"


def _rewrite_session(http: httpx.AsyncClient, secret: str, change: Callable[[Any], Any]) -> None:
    """What an attacker cannot do without the session key, done with it: the session as Pacte signs it, altered."""
    signer = itsdangerous.TimestampSigner(secret)
    cookie = http.cookies.get("pacte_session")
    assert cookie
    data = json.loads(b64decode(signer.unsign(cookie)))
    http.cookies.clear()
    http.cookies.set("pacte_session", signer.sign(b64encode(json.dumps(change(data)).encode())).decode(), path="/ui")


async def test_an_id_token_whose_nonce_is_not_the_one_sent_is_refused(
    pacte_oidc: httpx.AsyncClient, web_stack: Stack
) -> None:
    http = pacte_oidc
    # The control: the session re-signed unchanged still signs in, so what follows fails for the nonce alone.
    callback = await to_provider(http, "marie-sub")
    _rewrite_session(http, web_stack.settings.session_key(), lambda data: data)
    assert (await http.get(callback.removeprefix("http://pacte"))).status_code == 303
    http.cookies.clear()
    callback = await to_provider(http, "marie-sub")

    def other_nonce(value: Any) -> Any:  # the nonce Pacte expects is no longer the one the provider put in the token
        if isinstance(value, dict):
            return {k: ("another-nonce" if k == "nonce" else other_nonce(v)) for k, v in value.items()}
        return value

    _rewrite_session(http, web_stack.settings.session_key(), other_nonce)
    refused = await http.get(callback.removeprefix("http://pacte"))
    assert refused.status_code == 403 and "Connexion refusée" in refused.text
    assert (await http.get("/ui/contrats")).status_code == 303  # nobody signed in


async def test_in_chromium_a_prefet_and_a_collectivite_agent_sign_in_through_the_provider(
    provider: str, web_stack: Stack, chromium: Chromium, screenshots: Path
) -> None:
    settings = web_stack.settings.model_copy(
        update={
            "oidc_issuer": provider,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": SecretStr(CLIENT_SECRET),
            "public_url": BROWSER_BASE,
            "demo_sign_in": False,
        }
    )
    path = settings.access_path()
    access.grant(
        path,
        "siret",
        "17150001500013",
        Actor(role=Role.PREFET, identity="prefecture-cantal", scope=("15",)),
        by="test",
        organisation="Préfecture du Cantal",
    )
    access.grant(
        path,
        "siren",
        "221500016",
        Actor(role=Role.COLLECTIVITE, identity="departement-cantal", scope=("D15",)),
        by="test",
        organisation="Département du Cantal",
    )
    app = create_app(
        settings, service=Pacte(client=web_stack.pacte.client, store=web_stack.pacte.store, settings=settings)
    )
    async with serving(app, BROWSER_PORT, lifespan="on"):
        await _walk_through_the_provider(chromium, web_stack, screenshots)


async def _walk_through_the_provider(chromium: Chromium, web_stack: Stack, screenshots: Path) -> None:
    context = await chromium.new_context(locale="fr-FR")
    page = await context.new_page()
    try:

        async def sign_in(sub: str) -> None:
            await page.goto(f"{BROWSER_BASE}/ui/connexion")
            await page.click("#proconnect")
            await page.fill("input[name=login]", sub)  # the provider's own page, on its own origin
            await page.fill("input[name=password]", "any")
            await page.click("button[type=submit]")
            await page.click("button[type=submit]")  # its consent page
            await expect(page.locator("h1")).to_have_text("À traiter")  # where each person lands

        await sign_in("jeanne-sub")
        await expect(page.locator("#personne")).to_contain_text("Jeanne Martin — Préfecture du Cantal")
        await page.goto(f"{BROWSER_BASE}/ui/contrats/proposer")
        await page.select_option("[name=territory]", "D15")
        await page.fill("[name=annual_ceiling]", "800 000,00 €")
        await page.get_by_role("button", name="Proposer").click()
        await expect(page.locator("h1")).to_contain_text("Cantal")
        await page.screenshot(path=str(screenshots / "oidc-prefet.png"))
        await page.get_by_role("button", name="Se déconnecter").click()
        await page.click("button[autofocus], button[type=submit]")  # the provider asks to confirm its sign-out
        await expect(page.locator("h1")).to_have_text("Se connecter")

        await sign_in("paul-sub")
        await expect(page.locator("#personne")).to_contain_text("Paul Roux — Département du Cantal")
        await page.goto(f"{BROWSER_BASE}/ui/contrats/cls-d15")
        await expect(page.get_by_role("link", name="Ajouter une fiche action")).to_be_visible()
        answer = await page.goto(f"{BROWSER_BASE}/ui/contrats/cls-243300316")
        assert answer is not None and answer.status == 403  # another territory: outside his scope
        timeline = await web_stack.pacte.timeline(Actor(role=Role.AUDITOR, identity="a", scope=("*",)), "cls-d15")
        assert timeline[0].person is not None and timeline[0].person.name == "Jeanne Martin"
        assert timeline[0].person.sub == "jeanne-sub"
    finally:
        await context.close()


async def test_an_id_token_not_signed_by_the_keys_pacte_trusts_is_refused(
    pacte_oidc: httpx.AsyncClient, provider: str
) -> None:
    """As if the provider's answer had been forged: the id_token's signature does not verify with the keys Pacte
    holds for the provider (same key id, another key), and nobody is signed in."""
    http = pacte_oidc
    callback = await to_provider(http, "marie-sub")
    app = http._transport.app  # type: ignore[attr-defined]
    oidc = next(r for r in app.routes if getattr(r, "path", "") == "/ui").app.state.oidc
    await oidc.load_server_metadata()
    async with httpx.AsyncClient() as plain:
        kid = (await plain.get(f"{provider}/jwks")).json()["keys"][0]["kid"]
    oidc.server_metadata["jwks"] = {"keys": [RSAKey.generate_key(2048, parameters={"kid": kid}).as_dict(private=False)]}
    try:
        refused = await http.get(callback.removeprefix("http://pacte"))
        assert refused.status_code == 403 and "Connexion refusée" in refused.text
        assert (await http.get("/ui/contrats")).status_code == 303
    finally:
        oidc.server_metadata.pop("jwks", None)  # the provider's real keys again, fetched on next use


async def test_the_api_accepts_the_providers_access_token_for_a_person_on_the_access_list(
    pacte_oidc: httpx.AsyncClient, provider: str
) -> None:
    http = pacte_oidc
    callback = await to_provider(http, "marie-sub")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    async with httpx.AsyncClient() as plain:  # a script holding Pacte's client: the provider's token endpoint
        issued = await plain.post(
            f"{provider}/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": "http://pacte/ui/oidc/retour"},
            auth=(CLIENT_ID, CLIENT_SECRET),
        )
    assert issued.status_code == 200, issued.text
    bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    listed = await http.get("/contracts", headers=bearer)
    assert listed.status_code == 200  # Marie, préfète de la Gironde by her establishment's SIRET: her scope
    assert {c["territory_id"] for c in listed.json()} <= {"D33", "243300316"}
    assert (await http.get("/audit/verify", headers=bearer)).status_code == 403  # a préfet, not an auditor
    assert (await http.get("/contracts", headers={"Authorization": "Bearer not-a-token"})).status_code == 401


async def test_an_expired_id_token_is_refused(pacte_oidc: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from pacte.web import oidc

    http = pacte_oidc
    callback = await to_provider(http, "marie-sub")
    later = time.time() + 2 * 3600  # the answer arrives two hours on: past the id_token's hour of life
    monkeypatch.setattr(oidc.time, "time", lambda: later)
    refused = await http.get(callback.removeprefix("http://pacte"))
    assert refused.status_code == 403 and "Connexion refusée" in refused.text
    assert (await http.get("/ui/contrats")).status_code == 303
