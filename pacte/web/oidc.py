"""Sign-in through OpenID Connect, ProConnect-shaped: the authorization code flow with ``state`` and ``nonce`` (kept
in the session, checked on return), the exact redirect URI, the id_token's signature, issuer, audience and nonce
checked (authlib, from the provider's discovery document), the userinfo verified when it comes as a signed JWT
(``application/jwt``, ProConnect's way), and sign-out through the provider's end-session endpoint with
``id_token_hint``. Who may do what comes from the access list, not from the provider."""

from __future__ import annotations

import time
import warnings
from typing import Any

import authlib.deprecate  # noqa: F401  (it installs an "always" filter for its warnings on import: ours go after)

with warnings.catch_warnings():  # authlib 1.9 warns about its own httpx module at import; nothing for us to change
    warnings.simplefilter("ignore")
    from authlib.integrations.starlette_client import OAuth, OAuthError
from joserfc.errors import JoseError

from pacte.service.identity import SignInRefused, verify_userinfo_jwt
from pacte.settings import Settings

LEEWAY_S = 30  # clocks differ by this much at most
SCOPES = "openid email given_name usual_name uid siret siren organizational_unit"
NAME = "provider"


def client(settings: Settings) -> Any:
    oauth = OAuth()
    with warnings.catch_warnings():  # registering imports authlib's httpx integration, which warns about itself
        warnings.simplefilter("ignore")
        return _register(oauth, settings)


def _register(oauth: Any, settings: Settings) -> Any:
    oauth.register(
        NAME,
        server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None,
        client_kwargs={"scope": SCOPES},
    )
    return oauth.create_client(NAME)


async def finish(oidc: Any, request: Any, settings: Settings) -> tuple[dict[str, Any], str]:
    """Back from the provider: the person's claims (id_token then userinfo) and the id_token, or SignInRefused."""
    try:
        token = await oidc.authorize_access_token(request)  # state, code exchange, id_token signature and nonce
    except (OAuthError, JoseError, ValueError, KeyError) as exc:
        raise SignInRefused(f"{type(exc).__name__}: {str(exc)[:200]}") from None
    identity = dict(token.get("userinfo") or {})
    if not identity.get("sub"):
        raise SignInRefused("id_token: no subject")
    # Fresh, on our clock too (authlib allows two minutes of skew; ProConnect's tokens live one).
    now = time.time()
    if not (isinstance(identity.get("exp"), int) and identity["exp"] + LEEWAY_S >= now):
        raise SignInRefused("id_token: expired")
    if isinstance(identity.get("iat"), int) and identity["iat"] - LEEWAY_S > now:
        raise SignInRefused("id_token: issued in the future")
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
