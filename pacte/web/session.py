"""Who is signed in, and that a form was sent by our own page: the session (a signed, HttpOnly, SameSite cookie)
holds the person's role identity and a CSRF token that every form and every htmx request must carry back."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ValidationError

from domain.actors import Actor
from pacte.service import credentials, sessions
from pacte.service.facade import Pacte

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class Person(BaseModel):
    """The signed-in person: a display name and the role identity they act as. How they proved who they are is the
    sign-in method's business (demo list today, OpenID Connect next); the pages only read this."""

    name: str
    organisation: str
    actor: Actor
    signed_in_at: datetime
    expires_at: datetime
    grant_id: str | None = None  # the access list's grant it was opened under: revoked or expired, the session ends


class SignInRequired(Exception):
    """No live session: sign in, then back to ``next_url``. ``lapsed`` is who the ended session was (its sub) and
    ``csrf`` its form token, and ``sid`` its server-side id, when the cookie still says so: what they were sending can
    be kept for them, once the server confirms that session expired (pacte.web.drafts)."""

    def __init__(
        self, next_url: str, lapsed: str | None = None, csrf: str | None = None, sid: str | None = None
    ) -> None:
        super().__init__(next_url)
        self.next_url = next_url
        self.lapsed = lapsed
        self.csrf = csrf
        self.sid = sid


def _lapsed(request: Request) -> tuple[str | None, str | None]:
    """Who the session in the cookie was, and its CSRF token, read before an ended session is cleared."""
    raw, csrf = request.session.get("person"), request.session.get("csrf")
    try:
        actor = Person.model_validate(raw).actor if isinstance(raw, dict) else None
    except ValidationError:
        actor = None
    sub = None if actor is None else actor.person.sub if actor.person is not None else actor.identity
    return sub, csrf if isinstance(csrf, str) else None


class CsrfRefused(Exception):
    pass


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def _store(request: Request) -> Pacte:
    service: Pacte = request.app.state.service()
    return service


async def sign_in(
    request: Request, name: str, organisation: str, actor: Actor, hours: int, grant_id: str | None = None
) -> Person:
    now = datetime.now(UTC)
    person = Person(
        name=name,
        organisation=organisation,
        actor=actor,
        signed_in_at=now,
        expires_at=now + timedelta(hours=hours),
        grant_id=grant_id,
    )
    previous = request.session.get("sid")
    if isinstance(previous, str):
        await sessions.end(_store(request), previous, "signed in again")
    request.session.clear()  # nothing of a previous session carries over, the CSRF token included
    # Server-side: the cookie alone never proves a session (a copy replayed after sign-out opens nothing).
    sub = actor.person.sub if actor.person is not None else actor.identity
    request.session["sid"] = await sessions.open_session(
        _store(request), sub=sub, grant_id=grant_id, expires_at=person.expires_at
    )
    request.session["person"] = person.model_dump(mode="json")
    csrf_token(request)
    return person


async def sign_out(request: Request) -> None:
    sid = request.session.get("sid")
    if isinstance(sid, str):
        await sessions.end(_store(request), sid, "signed out")
    request.session.clear()


def current(request: Request) -> Person | None:
    """Who the cookie says is signed in (for display); ``person`` is what a page trusts: it checks the session and
    its grant in the database."""
    raw = request.session.get("person")
    if not isinstance(raw, dict):
        return None
    try:
        person = Person.model_validate(raw)
    except ValidationError:
        request.session.clear()
        return None
    now = datetime.now(UTC)
    if person.expires_at <= now:
        request.session.clear()
        return None
    return person


async def person(request: Request) -> Person:
    """The signed-in person, or a redirection to the sign-in page (and back here afterwards). The session must be
    alive server-side too: ended by sign-out (here or in another process), or unknown, it opens nothing."""
    lapsed, csrf = _lapsed(request)
    found = current(request)
    sid = request.session.get("sid")
    lapsed_sid = sid if isinstance(sid, str) else None
    if found is not None and not (isinstance(sid, str) and await sessions.alive(_store(request), sid)):
        request.session.clear()
        found = None
    # The grant it was opened under, read at every request from the access list every process shares: revoked or
    # expired, the session ends at once.
    pool = _store(request).store.pool
    if found is not None and found.grant_id is not None and not await credentials.grant_active(pool, found.grant_id):
        await sessions.end(_store(request), str(sid), "grant revoked or expired")
        request.session.clear()
        found = None
    if found is None:
        query = request.url.query
        raise SignInRequired(f"{request.url.path}?{query}" if query else request.url.path, lapsed, csrf, lapsed_sid)
    return found


async def check_csrf(request: Request) -> dict[str, Any]:
    """The posted form, once its CSRF token (or the htmx header's) matches the session's."""
    form = dict(await request.form())
    sent = form.pop(CSRF_FIELD, None) or request.headers.get(CSRF_HEADER)
    expected = request.session.get("csrf")
    if not (isinstance(sent, str) and isinstance(expected, str) and secrets.compare_digest(sent, expected)):
        raise CsrfRefused()
    return {k: v for k, v in form.items() if isinstance(v, str)}
