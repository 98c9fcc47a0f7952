"""Sessions live server-side (issue 25, item 2): a cookie replayed after sign-out, or kept by an attacker, opens
nothing; the session ends in PostgreSQL, so every API process agrees."""

from __future__ import annotations

import httpx

from tests.web.conftest import Browser, Stack


async def test_a_cookie_replayed_after_sign_out_opens_nothing(browser: Browser, web_stack: Stack) -> None:
    await browser.sign_in("prefet")
    assert (await browser.get("/ui/contrats")).status_code == 200
    kept = dict(browser.http.cookies)  # what an attacker copied before the person signed out
    signed_out = await browser.post("/ui/deconnexion", {})
    assert signed_out.status_code == 303
    transport = httpx.ASGITransport(app=web_stack.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pacte", cookies=kept) as replay:
        answer = await replay.get("/ui/contrats")
    assert answer.status_code == 303 and "/ui/connexion" in answer.headers["location"], answer.text[:300]
    ended = "SELECT count(*) FROM pacte_auth.sessions WHERE ended_why = 'signed out'"
    assert await web_stack.pacte.store.pool.fetchval(ended) >= 1


async def test_a_cookie_of_a_session_the_server_does_not_know_opens_nothing(browser: Browser, web_stack: Stack) -> None:
    await browser.sign_in("auditor")
    await web_stack.pacte.store.pool.execute("DELETE FROM pacte_auth.sessions")  # e.g. ended from another process
    answer = await browser.http.get("/ui/contrats")
    assert answer.status_code == 303 and "/ui/connexion" in answer.headers["location"]
