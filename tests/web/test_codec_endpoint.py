"""Temporal's Web UI reads payloads through Pacte's codec endpoint, behind Pacte's sign-in (issue 25, item 7): an
auditor opens a contract's sealed history; a préfet, a departmental administrator or nobody signed in opens nothing;
nobody gets a payload sealed on request."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.service import RPCError

from domain.actors import Actor, Role
from domain.commands import ProposeContract
from pacte.service import operations
from tests.web.conftest import Browser, Stack

UI = "http://127.0.0.1:8233"  # the stack's PACTE_TEMPORAL_UI_ORIGIN


async def sealed_history_payloads(web_stack: Stack) -> dict[str, object]:
    """The payloads of a contract's history as Temporal (and its UI) holds them: sealed."""
    client = web_stack.pacte.client
    contract_id = "cls-d77"
    try:
        await client.get_workflow_handle(contract_id).describe()
    except RPCError:
        command = ProposeContract(
            contract_id=contract_id,
            actor=Actor(role=Role.PREFET, identity="prefecture-seine-et-marne", scope=("77",)),
            request_id=str(uuid.uuid4()),
            at=datetime(2023, 12, 1, tzinfo=UTC),
            territory_id="D77",
            annual_ceiling=50_000_000,
        )
        await operations.propose(client, web_stack.settings.task_queue, command)
    history = await client.get_workflow_handle(contract_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.input
    assert started.payloads[0].metadata["encoding"] == b"binary/pacte-sealed"
    return json_format.MessageToDict(started)


async def post(browser: Browser, path: str, body: dict[str, object]) -> object:
    return await browser.http.post(
        path,
        content=json.dumps(body),
        headers={"content-type": "application/json", "origin": UI, "x-namespace": "default"},
    )


async def test_an_auditor_reads_a_sealed_history_through_the_codec_endpoint(browser: Browser, web_stack: Stack) -> None:
    body = await sealed_history_payloads(web_stack)
    await browser.sign_in("auditor")
    answer = await post(browser, "/ui/codec/decode", body)
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == UI
    assert answer.headers["access-control-allow-credentials"] == "true"
    (opened,) = json_format.ParseDict(answer.json(), Payloads()).payloads
    assert opened.metadata["encoding"] == b"json/plain"
    assert json.loads(opened.data)["contract_id"].startswith("cls-")


async def test_nobody_else_reads_through_it_and_nobody_gets_a_payload_sealed(
    browser: Browser, web_stack: Stack
) -> None:
    body = await sealed_history_payloads(web_stack)
    signed_out = await post(browser, "/ui/codec/decode", body)
    assert signed_out.status_code == 401 and "contract_id" not in signed_out.text
    for identity in ("prefet", "admin"):  # the demo administrator's scope is one département
        await browser.sign_in(identity)
        refused = await post(browser, "/ui/codec/decode", body)
        assert refused.status_code == 403 and "contract_id" not in refused.text, identity
    await browser.sign_in("auditor")
    plain = {"payloads": [{"metadata": {"encoding": base64.b64encode(b"json/plain").decode()}, "data": "e30="}]}
    sealing = await post(browser, "/ui/codec/encode", plain)
    assert sealing.status_code == 403 and "binary/pacte-sealed" not in base64.b64decode(
        "".join(p.get("data", "") for p in sealing.json().get("payloads", [])) or b""
    ).decode(errors="replace")


async def test_the_preflight_answers_the_temporal_ui_only(browser: Browser) -> None:
    ours = await browser.http.options("/ui/codec/decode", headers={"origin": UI})
    assert ours.headers["access-control-allow-origin"] == UI
    theirs = await browser.http.options("/ui/codec/decode", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in theirs.headers
