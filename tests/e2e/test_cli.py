"""The `pacte` CLI as operators use it: a client of a real `pacte api` process, on the session's real servers."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from typer.testing import CliRunner, Result

from domain.actors import Actor, Role
from eventstore.store import EventStore
from pacte import tokens
from pacte.cli import app
from pacte.settings import get_settings
from tests.sealing import TEST_KEYRING
from tests.waiting import eventually

pytestmark = pytest.mark.integration
PACTE = str(Path(sys.executable).parent / "pacte")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def api_server(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, temporal_address: str, task_queue: str
) -> Iterator[dict[str, str]]:
    """`pacte api` in its own process, and tokens for a préfet (national), a collectivité and an auditor."""
    folder = tmp_path_factory.mktemp("api")
    path = folder / "tokens.json"
    issued = {
        "prefet": tokens.add(path, Actor(role=Role.PREFET, identity="dgcs", scope=("*",)))[0],
        "collectivite": tokens.add(path, Actor(role=Role.COLLECTIVITE, identity="ille-et-vilaine", scope=("D35",)))[0],
        "auditor": tokens.add(path, Actor(role=Role.AUDITOR, identity="ccomptes", scope=("*",)))[0],
    }
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "PACTE_DATABASE_URL": database_url,
        "PACTE_TEMPORAL_ADDRESS": temporal_address,
        "PACTE_KEYRING": TEST_KEYRING.to_json(),  # the keyring the test's own client seals with
        "PACTE_TASK_QUEUE": task_queue,
        "PACTE_TOKENS_FILE": str(path),
        "PACTE_API_PORT": str(port),
        "PACTE_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen([PACTE, "api"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # generous: a loaded machine makes a start slow, only a broken one this slow
    while True:
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "pacte api did not answer /health within 90 s"
            time.sleep(0.1)
    yield {"url": url, **issued}
    process.terminate()
    process.wait(10)


@pytest.fixture
def as_role(monkeypatch: pytest.MonkeyPatch, api_server: dict[str, str]):  # type: ignore[no-untyped-def]
    def use(role: str) -> CliRunner:
        monkeypatch.setenv("PACTE_API_URL", api_server["url"])
        monkeypatch.setenv("PACTE_TOKEN", api_server[role])
        get_settings.cache_clear()
        return CliRunner()

    yield use
    get_settings.cache_clear()


async def invoke(runner: CliRunner, *args: str) -> Result:
    # In a thread: the session's worker keeps running on this event loop while the CLI waits on the API.
    return await asyncio.to_thread(runner.invoke, app, list(args), catch_exceptions=False)


async def test_propose_show_history(as_role, store: EventStore) -> None:  # type: ignore[no-untyped-def]
    prefet = as_role("prefet")
    first = await invoke(prefet, "contract", "propose", "--territory", "D35", "--ceiling", "1 500 000,00 €")
    assert first.exit_code == 0, first.output
    assert "proposed cls-d35" in first.output and "1 500 000,00 €" in first.output
    again = await invoke(prefet, "contract", "propose", "--territory", "D35", "--ceiling", "1500000")
    assert again.exit_code == 0 and "already exists" in again.output

    collectivite = as_role("collectivite")
    shown = await invoke(collectivite, "contract", "show", "cls-d35", "--json")
    assert shown.exit_code == 0
    state = json.loads(shown.stdout)
    assert state["status"] == "PROPOSED" and state["annual_ceiling"] == 150_000_000
    table = await invoke(collectivite, "contract", "show", "cls-d35")
    assert "Département Ille-et-Vilaine" in table.output and "1 500 000,00 €" in table.output

    history = await invoke(as_role("auditor"), "audit", "history", "cls-d35", "--json")
    assert history.exit_code == 0
    events = json.loads(history.stdout)
    assert [e["event_type"] for e in events] == ["ContractProposed"] and events[0]["role"] == "prefet"
    assert len(await store.read_stream("cls-d35")) == 1


async def test_commands_with_amounts_in_euros(as_role, store: EventStore) -> None:  # type: ignore[no-untyped-def]
    await invoke(as_role("prefet"), "contract", "propose", "--territory", "D35", "--ceiling", "1500000")
    action = {
        "action_id": "E7",
        "axis": "ENFANCE",
        "objective": "Soutenir les familles",
        "title": "Accueil",
        "nature": "new",
        "public": "familles",
        "zone": "Rennes",
        "indicators": [{"code": "familles", "label": "Familles", "baseline": 10, "targets": {"2027": 50}}],
        "amounts": {"2027": {"etat": "250 000,50 €", "collectivite": "250000.50"}},
    }
    collectivite = as_role("collectivite")
    done = await invoke(
        collectivite, "contract", "do", "cls-d35", "add-action", "--data", json.dumps({"action": action})
    )
    assert done.exit_code == 0, done.output
    assert "ActionAdded" in done.output
    stored = [e for e in await store.read_stream("cls-d35") if e.event_type == "ActionAdded"]
    assert stored[-1].payload["action"]["amounts"]["2027"]["etat"] == 25_000_050
    refused = await invoke(collectivite, "contract", "sign", "cls-d35", "--party", "etat", "--signatory", "x")
    assert (refused.exit_code == 1 and "forbidden" not in refused.output) or "lifecycle" in refused.output
    usage = await invoke(collectivite, "contract", "do", "cls-d35", "no-such-command")
    assert usage.exit_code == 2


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
    as_role,
    client: Client,
    store: EventStore,
    territory: str,
    ceiling: str,
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    result = await invoke(as_role("prefet"), "contract", "propose", "--territory", territory, "--ceiling", ceiling)
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert await store.stream_version(f"cls-{territory}") == 0
    with pytest.raises(RPCError) as info:
        await client.get_workflow_handle(f"cls-{territory}").describe()
    assert info.value.status is RPCStatusCode.NOT_FOUND


async def test_unknown_contract_and_unauthorized_exit_1(as_role, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    auditor = as_role("auditor")
    assert (await invoke(auditor, "contract", "show", "cls-000000001")).exit_code == 1
    assert (await invoke(auditor, "audit", "history", "cls-000000001")).exit_code == 1
    monkeypatch.setenv("PACTE_TOKEN", "stolen")
    get_settings.cache_clear()
    denied = await invoke(CliRunner(), "contract", "list")
    assert denied.exit_code == 1 and "unauthorized" in denied.output


async def test_usage_errors_exit_2(as_role) -> None:  # type: ignore[no-untyped-def]
    assert (await invoke(as_role("prefet"), "contract", "propose", "--territory", "243400017")).exit_code == 2


async def test_exports_with_progress(as_role, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    await invoke(as_role("prefet"), "contract", "propose", "--territory", "D54", "--ceiling", "700000")
    auditor = as_role("auditor")
    target = tmp_path / "d54.csv"
    exported = await invoke(auditor, "audit", "export", "--contract", "cls-d54", "--format", "csv", "-o", str(target))
    assert exported.exit_code == 0 and target.read_text().startswith("global_position,stream_id")
    everything = tmp_path / "all.jsonl"
    assert (await invoke(auditor, "audit", "export", "-o", str(everything))).exit_code == 0
    assert any(json.loads(line)["stream_id"] == "cls-d54" for line in everything.read_text().splitlines())
    denied = await invoke(as_role("collectivite"), "audit", "export", "-o", str(tmp_path / "x.jsonl"))
    assert denied.exit_code == 1


async def verify_and_anchor(runner: CliRunner, tmp_path: Path, *local: str) -> None:
    verified = await invoke(runner, "audit", "verify", *local)
    assert verified.exit_code == 0 and "intact" in verified.output, verified.output
    anchor = tmp_path / "anchor.json"
    assert (await invoke(runner, "audit", "anchor", "-o", str(anchor), *local)).exit_code == 0
    with_anchor = await invoke(runner, "audit", "verify", "--anchor", str(anchor), "--json", *local)
    assert with_anchor.exit_code == 0 and json.loads(with_anchor.stdout)["ok"] is True
    forged = json.loads(anchor.read_text())
    forged["streams"]["cls-999999999"] = {"version": 1, "hash": "00" * 32}
    anchor.write_text(json.dumps(forged))
    refused = await invoke(runner, "audit", "verify", "--anchor", str(anchor), *local)
    assert refused.exit_code == 1 and "anchor file itself" in " ".join(refused.output.split())


async def test_verify_and_anchor_through_the_api(as_role, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    await verify_and_anchor(as_role("auditor"), tmp_path)
    for role in ("prefet", "collectivite"):
        denied = await invoke(as_role(role), "audit", "verify")
        assert denied.exit_code == 1 and "forbidden" in denied.output
        assert (await invoke(as_role(role), "audit", "anchor")).exit_code == 1


async def test_local_verify_and_anchor(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("PACTE_DATABASE_URL", database_url)
    monkeypatch.setenv("PACTE_API_URL", "http://127.0.0.1:9")  # nothing listens there: --local must not need it
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        await verify_and_anchor(runner, tmp_path, "--local")
        assert (await invoke(runner, "projections", "rebuild")).exit_code == 0
    finally:
        get_settings.cache_clear()


async def test_campaigns_and_reminders(as_role) -> None:  # type: ignore[no-untyped-def]
    prefet = as_role("prefet")
    refused = await invoke(
        prefet, "campaign", "start", "--territories", "D87,D23,nonsense", "--ceiling", "600 000", "--id", "limousin"
    )
    assert refused.exit_code == 1 and "territories.2: unknown territory 'nonsense'" in refused.output
    started = await invoke(
        prefet, "campaign", "start", "--territories", "D87,D23", "--ceiling", "600 000", "--id", "limousin", "--json"
    )
    assert started.exit_code == 0, started.output
    campaign_id = json.loads(started.stdout)["campaign_id"]
    assert campaign_id.endswith("-limousin")

    async def complete() -> Any:
        status = await invoke(prefet, "campaign", "status", campaign_id, "--json")
        return status if status.exit_code == 0 and json.loads(status.stdout)["complete"] else None

    status = await eventually(complete, what=f"campaign {campaign_id} complete")
    progress = json.loads(status.stdout)  # stdout only: the session's worker logs on stderr meanwhile
    assert sorted(progress["started"]) == ["cls-d23", "cls-d87"] and not progress["refused"]
    listed = await invoke(prefet, "reminders", "--json")
    assert listed.exit_code == 0 and isinstance(json.loads(listed.stdout), list)


async def test_import_a_contract_under_way_then_both_time_axes(as_role, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`pacte contract import` with the README's example file, moved to Amiens Métropole (no other test uses it)."""
    example = (Path(__file__).parents[2] / "examples" / "reprise-nantes-metropole.jsonl").read_text()
    moved = (
        example.replace("244400404", "248000531")
        .replace('"scope": ["44"]', '"scope": ["80"]')
        .replace('"scope": ["52"]', '"scope": ["32"]')
    )
    path = tmp_path / "amiens.jsonl"
    path.write_text(moved)
    first = await invoke(as_role("prefet"), "contract", "import", str(path))
    assert first.exit_code == 0 and "imported cls-248000531: 28 events" in first.output, first.output
    again = await invoke(as_role("prefet"), "contract", "import", str(path))
    assert again.exit_code == 0 and "unchanged cls-248000531" in again.output, again.output
    history = await invoke(as_role("auditor"), "audit", "history", "cls-248000531", "--json")
    entries = json.loads(history.stdout)
    signed = [e for e in entries if e["event_type"] == "PartySigned"]
    assert all(e["imported"] and e["recorded_by"] == "dgcs" and e["late_by_days"] for e in signed)
    assert [e["occurred_at"][:10] for e in signed] == ["2024-03-28", "2024-03-28"]
    as_of = await invoke(
        as_role("auditor"), "audit", "as-of", "cls-248000531", "2025-06-30", "--known-at", "2026-01-01"
    )
    assert as_of.exit_code == 0 and "NONE" in as_of.output  # nothing was known of it on 1 January 2026
    future = await invoke(
        as_role("prefet"),
        "contract",
        "do",
        "cls-248000531",
        "terminate",
        "--data",
        '{"reason": "x"}',
        "--on",
        "2031-01-01",
    )
    assert future.exit_code == 1 and "in the future" in future.output


async def test_a_separate_api_process_refuses_a_token_the_moment_its_grant_or_the_token_is_revoked(
    api_server: dict[str, str], store: EventStore
) -> None:
    """Issue 25, item 1, across OS processes: `pacte api` runs in its own process; this one revokes in the database
    they share, and the very next request there is refused."""
    from domain.actors import Person
    from pacte.service import credentials

    prefet_35 = Actor(role=Role.PREFET, identity="prefecture-ille-et-vilaine", scope=("35",))

    async def made(sub: str) -> tuple[str, str, str]:
        grant = await credentials.grant(store.pool, "sub", sub, prefet_35, by="test", days=30)
        holder = grant.actor().model_copy(update={"person": Person(sub=sub, name="Agent E2E")})
        token, entry = await credentials.add_token(store.pool, holder, grant_id=grant.grant_id, by=sub)
        return grant.grant_id, token, entry.token_id

    async with httpx.AsyncClient(base_url=api_server["url"], timeout=60) as http:
        grant_id, token, _ = await made("sub-e2e-grant")
        bearer = {"Authorization": f"Bearer {token}"}
        assert (await http.get("/territories", headers=bearer)).status_code == 200
        await credentials.revoke_grant(store.pool, grant_id, by="admin")
        assert (await http.get("/territories", headers=bearer)).status_code == 401

        _, token, token_id = await made("sub-e2e-token")
        bearer = {"Authorization": f"Bearer {token}"}
        assert (await http.get("/territories", headers=bearer)).status_code == 200
        await credentials.revoke_token(store.pool, token_id, by="admin")
        assert (await http.get("/territories", headers=bearer)).status_code == 401
