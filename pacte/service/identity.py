"""Who a person is, from the identity provider's word: a signed userinfo verified, an access token checked at the
provider (so the API accepts the provider's access tokens too, where it issues them for Pacte), and the access list
deciding what they may do. The web's sign-in and the API's authentication share it."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from domain.actors import Actor, Person
from pacte import access
from pacte.service import credentials
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


async def actor_for(claims: dict[str, Any], database: Any) -> tuple[Actor, access.Grant] | None:
    """The role, identity and scope the access list (in ``database``) grants this person, with the person
    recorded; None: unknown."""
    found = await credentials.resolve(database, claims)
    if found is None:
        return None
    person = Person(sub=str(claims["sub"])[:255], name=display_name(claims)[:200], email=claims.get("email"))
    return found.actor().model_copy(update={"person": person}), found


class AccessTokens:
    """The provider's access tokens, presented to the API as bearer tokens: checked by asking the provider's
    userinfo endpoint (verified like the web's), mapped through the access list.

    Anyone may present a bearer, so what a stranger can make Pacte do is bounded (400 made-up bearers made 800
    connections to the provider and slowed every request to ~2 s): one HTTP client with a bounded pool, a bounded
    cache that remembers refusals too (keyed by the token's hash, never the token), and at most ``MAX_LOOKUPS`` calls
    to the provider at once. The rate per caller is the middleware's (``LookupBudget``)."""

    MAX_CACHED = 10_000
    MAX_LOOKUPS = 8

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._metadata: dict[str, Any] | None = None
        self._answers: OrderedDict[bytes, tuple[float, dict[str, Any] | None]] = OrderedDict()
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._lookups: asyncio.Semaphore | None = None
        self.clients_made = 0  # observed by the tests: one, however many callers

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=5,
                transport=self._transport,
                limits=httpx.Limits(max_connections=self.MAX_LOOKUPS, max_keepalive_connections=self.MAX_LOOKUPS),
            )
            self._lookups = asyncio.Semaphore(self.MAX_LOOKUPS)
            self.clients_made += 1
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _discover(self, http: httpx.AsyncClient) -> dict[str, Any]:
        if self._metadata is None:
            answer = await http.get(f"{self.settings.oidc_issuer}/.well-known/openid-configuration")
            answer.raise_for_status()
            metadata: dict[str, Any] = answer.json()
            metadata["jwks"] = (await http.get(metadata["jwks_uri"])).json()
            self._metadata = metadata
        return self._metadata

    def cached(self, token: str) -> tuple[bool, dict[str, Any] | None]:
        """(known, claims): whether the provider's answer for this token is still remembered, and what it was (None:
        refused). Only the provider's word is remembered: what the person may do is read from the access list at
        every request, so a grant revoked in Pacte counts at once."""
        key = hashlib.sha256(token.encode()).digest()
        found = self._answers.get(key)
        if found is None or time.monotonic() - found[0] >= CACHE_S:
            return False, None
        self._answers.move_to_end(key)
        return True, found[1]

    def _remember(self, token: str, claims: dict[str, Any] | None) -> None:
        key = hashlib.sha256(token.encode()).digest()
        self._answers[key] = (time.monotonic(), claims)
        self._answers.move_to_end(key)
        while len(self._answers) > self.MAX_CACHED:
            self._answers.popitem(last=False)  # the least recently used

    async def claims(self, token: str) -> dict[str, Any] | None:
        """What the provider says of this access token (remembered a while, refusals too), or None."""
        known, remembered = self.cached(token)
        if known:
            return remembered
        http = self._client()
        assert self._lookups is not None
        claims: dict[str, Any] | None = None
        try:
            async with self._lookups:
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
                if not isinstance(claims, dict) or not claims.get("sub"):
                    claims = None
        except (httpx.HTTPError, SignInRefused, ValueError, KeyError):
            claims = None
        self._remember(token, claims)  # a refusal too: the same made-up bearer again costs the provider nothing
        return claims

    async def actor(self, token: str, database: Any = None) -> Actor | None:
        """The person a provider's access token names, as the access list in ``database`` maps them now (without a
        database, nobody: refused)."""
        claims = await self.claims(token)
        if claims is None or database is None:
            return None
        mapped = await actor_for(claims, database)
        return mapped[0] if mapped else None


class LookupBudget:
    """How many unknown bearers one caller (its address) may have checked at the provider: a token bucket of
    ``burst`` lookups refilled at ``per_second``; the buckets themselves are bounded (the oldest forgotten)."""

    MAX_SOURCES = 10_000

    def __init__(self, burst: int = 20, per_second: float = 1.0) -> None:
        self.burst = burst
        self.per_second = per_second
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, source: str) -> bool:
        now = time.monotonic()
        tokens, since = self._buckets.get(source, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - since) * self.per_second)
        allowed = tokens >= 1
        self._buckets[source] = (tokens - 1 if allowed else tokens, now)
        self._buckets.move_to_end(source)
        while len(self._buckets) > self.MAX_SOURCES:
            self._buckets.popitem(last=False)
        return allowed
