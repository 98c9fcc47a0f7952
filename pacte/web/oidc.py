"""Sign-in through OpenID Connect, ProConnect-shaped: the authorization code flow with ``state`` and ``nonce`` (kept
in the session, checked on return), the exact redirect URI, the id_token's signature, issuer, audience and nonce
checked (authlib, from the provider's discovery document), the userinfo verified when it comes as a signed JWT
(``application/jwt``, ProConnect's way), and sign-out through the provider's end-session endpoint with
``id_token_hint``. Who may do what comes from the access list, not from the provider."""

from __future__ import annotations

import warnings
from typing import Any

with warnings.catch_warnings():  # authlib 1.9 warns about its own httpx module at import; nothing for us to change
    warnings.simplefilter("ignore")
    from authlib.integrations.starlette_client import OAuth, OAuthError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from pacte.settings import Settings

SCOPES = "openid email given_name usual_name uid siret siren organizational_unit"
NAME = "provider"


class SignInRefused(Exception):
    """The provider's answer cannot be trusted (state, code, token, nonce, signature): nobody is signed in."""


def client(settings: Settings) -> Any:
    oauth = OAuth()
    oauth.register(
        NAME,
        server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None,
        client_kwargs={"scope": SCOPES},
    )
    return oauth.create_client(NAME)


def verify_userinfo_jwt(text: str, jwks: dict[str, Any], issuer: str, client_id: str, sub: str) -> dict[str, Any]:
    """A signed userinfo: signed by the provider's keys, for us, about the person the id_token named."""
    try:
        token = jwt.decode(text, KeySet.import_key_set(jwks))
    except (JoseError, ValueError) as exc:
        raise SignInRefused(f"userinfo: signature not from the provider ({type(exc).__name__})") from None
    claims = dict(token.claims)
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if claims.get("iss") != issuer or client_id not in audiences or claims.get("sub") != sub:
        raise SignInRefused("userinfo: not issued by the provider, for this service, about this person")
    return claims


async def finish(oidc: Any, request: Any, settings: Settings) -> tuple[dict[str, Any], str]:
    """Back from the provider: the person's claims (id_token then userinfo) and the id_token, or SignInRefused."""
    try:
        token = await oidc.authorize_access_token(request)  # state, code exchange, id_token signature and nonce
    except (OAuthError, JoseError, ValueError, KeyError) as exc:
        raise SignInRefused(f"{type(exc).__name__}: {str(exc)[:200]}") from None
    identity = dict(token.get("userinfo") or {})
    if not identity.get("sub"):
        raise SignInRefused("id_token: no subject")
    answer = await oidc.get((await oidc.load_server_metadata())["userinfo_endpoint"], token=token)
    if answer.status_code != 200:
        raise SignInRefused(f"userinfo: HTTP {answer.status_code}")
    if answer.headers.get("content-type", "").startswith("application/jwt"):
        jwks = await oidc.fetch_jwk_set(force=True)
        claims = verify_userinfo_jwt(
            answer.text, jwks, settings.oidc_issuer or "", settings.oidc_client_id or "", identity["sub"]
        )
    else:
        claims = answer.json()
        if claims.get("sub") != identity["sub"]:
            raise SignInRefused("userinfo: about another person")
    return identity | claims, str(token["id_token"])


def display_name(claims: dict[str, Any]) -> str:
    """ProConnect names a person by given_name and usual_name."""
    name = " ".join(str(claims[k]) for k in ("given_name", "usual_name") if claims.get(k))
    return name or str(claims.get("email") or claims["sub"])
