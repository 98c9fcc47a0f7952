"""The skeleton's three commands, run as an operator would, against the real servers of the test session."""

from __future__ import annotations

import asyncio
import json

import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from typer.testing import CliRunner

from eventstore.store import EventStore
from pacte.cli import app
from pacte.settings import get_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, temporal_address: str, task_queue: str) -> CliRunner:
    monkeypatch.setenv("PACTE_DATABASE_URL", database_url)
    monkeypatch.setenv("PACTE_TEMPORAL_ADDRESS", temporal_address)
    monkeypatch.setenv("PACTE_TASK_QUEUE", task_queue)
    monkeypatch.setenv("PACTE_LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


async def invoke(runner: CliRunner, *args: str):  # type: ignore[no-untyped-def]
    # In a thread: the session's worker keeps running on this event loop while the CLI runs its own.
    return await asyncio.to_thread(runner.invoke, app, list(args), catch_exceptions=False)


async def test_propose_show_history(cli_env: CliRunner, store: EventStore) -> None:
    first = await invoke(cli_env, "contract", "propose", "--territory", "D35", "--ceiling", "1500000")
    assert first.exit_code == 0, first.output
    assert "proposed cls-d35" in first.output and "1 500 000,00 €" in first.output

    again = await invoke(cli_env, "contract", "propose", "--territory", "D35", "--ceiling", "1500000")
    assert again.exit_code == 0 and "already exists" in again.output

    shown = await invoke(cli_env, "contract", "show", "cls-d35", "--json")
    assert shown.exit_code == 0
    state = json.loads(shown.output)
    assert state["status"] == "PROPOSED" and state["annual_ceiling"] == 150_000_000

    table = await invoke(cli_env, "contract", "show", "cls-d35")
    assert "Département Ille-et-Vilaine" in table.output and "PROPOSED" in table.output

    history = await invoke(cli_env, "audit", "history", "cls-d35", "--json")
    assert history.exit_code == 0
    events = json.loads(history.output)
    assert [e["event_type"] for e in events] == ["ContractProposed"]
    assert events[0]["metadata"]["actor"]["role"] == "prefet"
    assert len(await store.read_stream("cls-d35")) == 1


@pytest.mark.parametrize(
    ("territory", "ceiling", "message"),
    [
        ("123456789", "1500000", "not a known territory"),
        ("243400017", "-1500000", "cannot be negative"),
        ("243400017", "1,500,000.00", "not an amount"),
        ("243400017", "0", "must be a positive amount"),
    ],
)
async def test_refusals_exit_1_with_the_rule_and_write_nothing(
    cli_env: CliRunner, client: Client, store: EventStore, territory: str, ceiling: str, message: str
) -> None:
    result = await invoke(cli_env, "contract", "propose", "--territory", territory, "--ceiling", ceiling)
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert await store.stream_version(f"cls-{territory}") == 0
    with pytest.raises(RPCError) as info:
        await client.get_workflow_handle(f"cls-{territory}").describe()
    assert info.value.status is RPCStatusCode.NOT_FOUND


async def test_unknown_contract_exits_1(cli_env: CliRunner) -> None:
    assert (await invoke(cli_env, "contract", "show", "cls-000000001")).exit_code == 1
    assert (await invoke(cli_env, "audit", "history", "cls-000000001")).exit_code == 1


async def test_usage_errors_exit_2(cli_env: CliRunner) -> None:
    assert (await invoke(cli_env, "contract", "propose", "--territory", "243400017")).exit_code == 2


async def test_verify_and_anchor(cli_env: CliRunner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    await invoke(cli_env, "contract", "propose", "--territory", "D54", "--ceiling", "700000")
    verified = await invoke(cli_env, "audit", "verify")
    assert verified.exit_code == 0 and "intact" in verified.output
    anchor = tmp_path / "anchor.json"
    assert (await invoke(cli_env, "audit", "anchor", "-o", str(anchor))).exit_code == 0
    assert json.loads(anchor.read_text())["streams"]["cls-d54"]["version"] == 1
    with_anchor = await invoke(cli_env, "audit", "verify", "--anchor", str(anchor), "--json")
    assert with_anchor.exit_code == 0 and json.loads(with_anchor.output)["ok"] is True
    forged = json.loads(anchor.read_text())
    forged["streams"]["cls-999999999"] = {"version": 1, "hash": "00" * 32}
    anchor.write_text(json.dumps(forged))
    refused = await invoke(cli_env, "audit", "verify", "--anchor", str(anchor))
    assert refused.exit_code == 1 and "anchor file itself" in " ".join(refused.output.split())
    assert (await invoke(cli_env, "projections", "rebuild")).exit_code == 0
