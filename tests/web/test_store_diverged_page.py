"""The history page of a contract whose stream no longer matches its workflow says so, in French, instead of a 500
(issue 25, item 6): a fact written behind the workflow's back, or a store behind the workflow."""

from __future__ import annotations

import html
import uuid
from datetime import UTC, datetime

from domain.actors import Actor, Role
from eventstore.hashing import content_text
from pacte.service.catalogue import ProposeBody
from tests.unit.builders import BORDEAUX_ACTIONS
from tests.web.conftest import Browser, Stack

PREFET = Actor(role=Role.PREFET, identity="prefecture-loire", scope=("43", "45"))


async def test_the_history_of_a_diverged_contract_says_so_in_french(browser: Browser, web_stack: Stack) -> None:
    store = web_stack.pacte.store
    await web_stack.pacte.propose(PREFET, ProposeBody(territory="D43", annual_ceiling=150_000_000))
    version = await store.stream_version("cls-d43")
    forged = content_text(
        stream_id="cls-d43",
        version=version + 1,
        event_id=uuid.uuid4(),
        event_type="Forged",
        schema_version=1,
        payload={"type": "Forged"},
        metadata={},
        occurred_at=datetime.now(UTC),
    )
    await store.pool.fetchrow("SELECT * FROM pacte_append('cls-d43', 'cls', $1, $2, NULL, NULL)", version, [forged])
    body = ProposeBody(territory="D45", annual_ceiling=150_000_000, draft_actions=BORDEAUX_ACTIONS[:1])
    await web_stack.pacte.propose(PREFET, body)
    version = await store.stream_version("cls-d45")
    assert version >= 2
    async with store.pool.acquire() as conn, conn.transaction():  # the store loses its last fact
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute("DELETE FROM events WHERE stream_id = 'cls-d45' AND version = $1", version)
        await conn.execute(
            """UPDATE streams SET version = $1, head_hash = (SELECT hash FROM events WHERE stream_id = 'cls-d45'
               AND version = $1) WHERE stream_id = 'cls-d45'""",
            version - 1,
        )
    await browser.sign_in("auditor")
    for cid in ("cls-d43", "cls-d45"):
        page = await browser.get(f"/ui/contrats/{cid}/historique")
        assert page.status_code == 409, page.text[:500]
        text = html.unescape(page.text)
        assert "Contrat à examiner" in text
        assert f"ne correspond plus au contrat {cid}" in text and "Réessayer n'y changera rien" in text
