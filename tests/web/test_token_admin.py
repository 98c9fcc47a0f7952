"""The administrator's page of API tokens (issue 25, item 1): an `admin` (DOMAIN.md §5) sees the tokens of their
scope and revokes one, which stops working at once through the API; nobody else reaches the page; a person's tokens
are bounded, with a refusal in French."""

from __future__ import annotations

import re

from pacte import tokens
from tests.web.conftest import Browser, Stack


async def made_token(browser: Browser, who: str) -> tuple[str, str]:
    await browser.sign_in(who)
    await browser.get("/ui/jetons")
    created = await browser.post("/ui/jetons", {"days": "30"})
    token = re.search(r'<code id="jeton">([^<]+)</code>', created.text).group(1)  # type: ignore[union-attr]
    token_id = re.search(r"Jeton (\w+) créé", created.text).group(1)  # type: ignore[union-attr]
    return token, token_id


async def test_an_administrator_revokes_a_token_of_their_scope_and_it_stops_at_once(
    browser: Browser, web_stack: Stack
) -> None:
    prefet, prefet_id = await made_token(browser, "prefet")  # Gironde: within the administrator's scope
    auditor, auditor_id = await made_token(browser, "auditor")  # national: beyond it
    api = {"Authorization": f"Bearer {prefet}"}
    assert (await browser.http.get("/contracts", headers=api)).status_code == 200

    # Nobody but an administrator reaches the page (the auditor is signed in now).
    assert (await browser.get("/ui/administration/jetons")).status_code == 403

    await browser.sign_in("admin")
    page = await browser.get("/ui/administration/jetons")
    assert page.status_code == 200 and "Jetons d&#39;API du périmètre" in page.text
    assert prefet_id in page.text and "Claire Martin" in page.text
    assert auditor_id not in page.text  # not theirs to manage
    assert prefet not in page.text  # a token is never shown again
    # Beyond their scope the revocation is refused, and the token keeps working.
    refused = await browser.post(f"/ui/jetons/{auditor_id}/revocation", {})
    assert refused.status_code == 303
    assert "ni l&#39;un des vôtres" in (await browser.get("/ui/administration/jetons")).text
    assert (await browser.http.get("/contracts", headers={"Authorization": f"Bearer {auditor}"})).status_code == 200
    # Within it, the token is dead from its next use.
    await browser.post(f"/ui/jetons/{prefet_id}/revocation", {})
    after = await browser.get("/ui/administration/jetons")
    assert f"Jeton {prefet_id} révoqué" in after.text and "Révoqué le" in after.text
    assert (await browser.http.get("/contracts", headers=api)).status_code == 401


async def test_a_person_cannot_hold_more_tokens_than_the_bound(browser: Browser, web_stack: Stack) -> None:
    await browser.sign_in("commissaire")
    await browser.get("/ui/jetons")
    held = len(re.findall(r"/revocation", (await browser.get("/ui/jetons")).text))
    for _ in range(tokens.MAX_PER_PERSON - held):
        assert "Copiez-le maintenant" in (await browser.post("/ui/jetons", {"days": "1"})).text
    refused = await browser.post("/ui/jetons", {"days": "1"})
    assert refused.status_code == 303
    page = (await browser.get("/ui/jetons")).text
    assert f"vous détenez déjà {tokens.MAX_PER_PERSON} jetons valides" in page
    assert len(re.findall(r"/revocation", page)) == tokens.MAX_PER_PERSON  # nothing more was made
