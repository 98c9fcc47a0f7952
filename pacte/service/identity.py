"""Who a person is, from the identity provider's word: a signed userinfo verified, an access token checked at the
provider (so the API accepts the provider's access tokens too, where it issues them for Pacte), and the access list
deciding what they may do. The web's sign-in and the API's authentication share it."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from domain.actors import Actor, Person
from pacte import access
from pacte.settings import Settings

CACHE_S = 60.0  # an access token's answer is kept a minute: a revocation at the provider counts within it


class SignInRefused(Exception):
    """The provider's answer cannot be trusted (state, code, token, nonce, signature): nobody is signed in."""


def verify_userinfo_jwt(
    text: str, jwks: dict[str, Any], issuer: str, client_id: str, sub: str | None
) -> dict[str, Any]:
    """A signed userinfo: signed by the provider's keys, for us, about the person expected (any, when ``sub`` is
    None: an access token presented to the API names its person itself)."""
    try:
        token = jwt.decode(text, KeySet.import_key_set(jwks))
    except (JoseError, ValueError) as exc:
        raise SignInRefused(f"userinfo: signature not from the provider ({type(exc).__name__})") from None
    claims = dict(token.claims)
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if claims.get("iss") != issuer or client_id not in audiences or (sub is not None and claims.get("sub") != sub):
        raise SignInRefused("userinfo: not issued by the provider, for this service, about this person")
    if not claims.get("sub"):
        raise SignInRefused("userinfo: no subject")
    return claims


def display_name(claims: dict[str, Any]) -> str:
    """ProConnect names a person by given_name and usual_name."""
    name = " ".join(str(claims[k]) for k in ("given_name", "usual_name") if claims.get(k))
    return name or str(claims.get("email") or claims["sub"])


def actor_for(claims: dict[str, Any], settings: Settings) -> tuple[Actor, access.Grant] | None:
    """The role, identity and scope the access list grants this person, with the person recorded; None: unknown."""
    found = access.resolve(access.load(settings.access_path()), claims, datetime.now(UTC))
    if found is None:
        return None
    person = Person(sub=str(claims["sub"])[:255], name=display_name(claims)[:200], email=claims.get("email"))
    return found.actor().model_copy(update={"person": person}), found


class AccessTokens:
    """The provider's access tokens, presented to the API as bearer tokens: checked by asking the provider's
    userinfo endpoint (verified like the web's), mapped through the access list."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._metadata: dict[str, Any] | None = None
        self._answers: dict[str, tuple[float, Actor | None]] = {}

    async def _discover(self, http: httpx.AsyncClient) -> dict[str, Any]:
        if self._metadata is None:
            answer = await http.get(f"{self.settings.oidc_issuer}/.well-known/openid-configuration")
            answer.raise_for_status()
            metadata: dict[str, Any] = answer.json()
            metadata["jwks"] = (await http.get(metadata["jwks_uri"])).json()
            self._metadata = metadata
        return self._metadata

    async def actor(self, token: str) -> Actor | None:
        now = time.monotonic()
        cached = self._answers.get(token)
        if cached is not None and now - cached[0] < CACHE_S:
            return cached[1]
        actor: Actor | None = None
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                metadata = await self._discover(http)
                answer = await http.get(metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {token}"})
            if answer.status_code == 200:
                if answer.headers.get("content-type", "").startswith("application/jwt"):
                    claims = verify_userinfo_jwt(
                        answer.text,
                        metadata["jwks"],
                        self.settings.oidc_issuer or "",
                        self.settings.oidc_client_id or "",
                        None,
                    )
                else:
                    claims = answer.json()
                mapped = actor_for(claims, self.settings)
                actor = mapped[0] if mapped else None
        except (httpx.HTTPError, SignInRefused, ValueError, KeyError):
            actor = None
        self._answers = {k: v for k, v in self._answers.items() if now - v[0] < CACHE_S}
        self._answers[token] = (now, actor)
        return actor
