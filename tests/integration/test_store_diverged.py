"""A contract's stream that no longer matches its workflow answers ``store_diverged`` (issue 25, item 6): events written
behind the workflow's back, or a store behind the workflow (a tail lost, a restore from an older backup). It used to
answer 409 ``store_conflict`` or 503 "retry later" forever to a command, and 422 to the auditors' cross-check."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.actors import Actor, Role
from eventstore.hashing import content_text
from eventstore.store import EventStore
from pacte.api import create_app
from pacte.runtime import build_worker
from pacte.service.facade import Pacte
from pacte.settings import Settings
from tests.integration.helpers import auth
from tests.unit.builders import BORDEAUX_ACTIONS

pytestmark = pytest.mark.integration

ACTORS = {
    "prefet": Actor(role=Role.PREFET, identity="prefecture-haute-loire", scope=("41", "42")),
    "collectivite_41": Actor(role=Role.COLLECTIVITE, identity="departement-loir-et-cher", scope=("D41",)),
    "collectivite_42": Actor(role=Role.COLLECTIVITE, identity="departement-loire", scope=("D42",)),
    "auditor": Actor(role=Role.AUDITOR, identity="cour-des-comptes", scope=("*",)),
}


@pytest.fixture(scope="module")
async def diverging(
    tokens_file: tuple[Path, dict[str, str]], temporal_env: WorkflowEnvironment, postgres_server_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str], EventStore]]:
    """The API on a database of its own (the cross-check sees only these contracts) and a worker of its own."""
    from tests.conftest import create_fresh_database, drop_database

    url = await create_fresh_database(postgres_server_url)
    store = await EventStore.connect(url)
    queue = f"diverged-{uuid.uuid4().hex[:6]}"
    path, issued = tokens_file
    settings = Settings(tokens_file=path, task_queue=queue)
    app = create_app(settings, service=Pacte(client=temporal_env.client, store=store, settings=settings))
    try:
        async with (
            build_worker(temporal_env.client, store, queue),
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pacte") as http,
        ):
            yield http, issued, store
    finally:
        await store.close()
        await drop_database(postgres_server_url, url)


async def propose(http: httpx.AsyncClient, issued: dict[str, str], territory: str) -> None:
    body = {"territory": territory, "annual_ceiling": 150_000_000}
    response = await http.post("/contracts", json=body, headers=auth(issued, "prefet"))
    assert response.status_code == 201, response.text


async def add_action(http: httpx.AsyncClient, issued: dict[str, str], cid: str, who: str) -> httpx.Response:
    action = BORDEAUX_ACTIONS[0].model_dump(mode="json") | {"action_id": f"X{uuid.uuid4().hex[:4].upper()}"}
    return await http.post(f"/contracts/{cid}/actions", json={"action": action}, headers=auth(issued, who))


async def test_a_diverged_stream_answers_store_diverged_to_commands_and_to_the_cross_check(
    diverging: tuple[httpx.AsyncClient, dict[str, str], EventStore],
) -> None:
    http, issued, store = diverging
    # Behind the workflow's back: a fact it did not write, through the runtime role's own door.
    await propose(http, issued, "D41")
    version = await store.stream_version("cls-d41")
    text = content_text(
        stream_id="cls-d41",
        version=version + 1,
        event_id=uuid.uuid4(),
        event_type="Forged",
        schema_version=1,
        payload={"type": "Forged"},
        metadata={},
        occurred_at=datetime.now(UTC),
    )
    await store.pool.fetchrow("SELECT * FROM pacte_append('cls-d41', 'cls', $1, $2, NULL, NULL)", version, [text])
    answer = await add_action(http, issued, "cls-d41", "collectivite_41")
    assert answer.status_code == 409, answer.text
    assert answer.json()["code"] == "store_diverged" and "cls-d41" in answer.json()["message"]
    assert answer.json()["field"] == "contract_id"
    # The store behind the workflow: its last fact lost (a restore from an older backup, say).
    await propose(http, issued, "D42")
    assert (await add_action(http, issued, "cls-d42", "collectivite_42")).status_code == 200
    version = await store.stream_version("cls-d42")
    async with store.pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute("DELETE FROM events WHERE stream_id = 'cls-d42' AND version = $1", version)
        await conn.execute(
            """UPDATE streams SET version = $1, head_hash = (SELECT hash FROM events WHERE stream_id = 'cls-d42'
               AND version = $1) WHERE stream_id = 'cls-d42'""",
            version - 1,
        )
    for _ in range(2):  # every time, not "retry later"
        answer = await add_action(http, issued, "cls-d42", "collectivite_42")
        assert answer.status_code == 409, answer.text
        assert answer.json()["code"] == "store_diverged" and "cls-d42" in answer.json()["message"]
    assert await store.stream_version("cls-d42") == version - 1  # nothing written
    # The auditors' cross-check names both, and answers.
    cross = await http.get("/audit/cross-check", headers=auth(issued, "auditor"))
    assert cross.status_code == 200, cross.text
    diverged = {d["contract_id"] for d in cross.json()["differences"] if d.get("difference") == "store_diverged"}
    assert diverged == {"cls-d41", "cls-d42"} and not cross.json()["ok"]
