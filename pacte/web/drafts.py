"""What an agent typed when their session ended under them comes back after they sign in again (issue 22, item 8).

A form posted without a live session is not sent: if the cookie still names the person, the form carries that
session's CSRF token (it came from our page, in that session) and the server knows that session as the person's and
expired — not ended by a sign-out, not unknown (a copied cookie replayed later keeps nothing) — its values are kept server-side for that person and
that form (pacte/service/drafts.py), and the sign-in link leads back to the form with the draft's id. The form then
opens filled, with a notice; nothing is recorded until the person sends it."""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import Request

from pacte.service import drafts, sessions
from pacte.web.rendering import ROOT
from pacte.web.session import CSRF_FIELD, SignInRequired

DRAFT = "brouillon"
# The forms whose values are kept: every act's form and the proposal (not sign-in, sign-out, tokens or audits).
KEPT = re.compile(rf"^{ROOT}/contrats/(proposer|[^/]+/actes/[a-z-]+)$")
NOT_KEPT = {CSRF_FIELD, "confirme", "modifier"}


async def keep_draft(request: Request, error: SignInRequired) -> str | None:
    """Keep the posted form for the person whose session ended; return where to come back to (the form, with the
    draft's id), or None when nothing is kept."""
    path = urlsplit(error.next_url).path
    if not (error.lapsed and error.csrf and error.sid and KEPT.match(path)):
        return None
    posted = await request.form()
    sent = posted.get(CSRF_FIELD)
    if not (isinstance(sent, str) and secrets.compare_digest(sent, error.csrf)):
        return None  # not from our page in that session: nothing kept
    if not await sessions.lapsed(request.app.state.service(), error.sid, error.lapsed):
        return None  # not a session of this person that ran out of time (signed out, unknown): nothing kept
    fields = {k: v for k, v in posted.items() if isinstance(v, str) and k not in NOT_KEPT}
    draft_id = await drafts.keep(request.app.state.service(), sub=error.lapsed, path=path, fields=fields)
    query = [(k, v) for k, v in parse_qsl(urlsplit(error.next_url).query) if k != DRAFT] + [(DRAFT, draft_id)]
    return f"{path}?{urlencode(query)}"


async def restored(request: Request, sub: str) -> dict[str, str] | None:
    """The draft the link names, if it is this person's and this form's (given back once)."""
    draft_id = request.query_params.get(DRAFT)
    if not draft_id:
        return None
    return await drafts.take(request.app.state.service(), draft_id, sub=sub, path=request.url.path)
