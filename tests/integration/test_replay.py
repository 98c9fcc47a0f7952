"""Recorded histories replay against today's workflow code: a non-deterministic change fails here.

Every release's histories are kept (tests/histories/ holds the first, tests/histories/<release>/ the later ones) and
all are replayed: a contract started under an old release may still run under this one. A release whose workflow
code changed records its own with `python -m tests.histories.record <release>` (README, "Changing a workflow safely").
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.sealing import REPLAY_CONVERTER
from workflows.campaign import CampaignWorkflow
from workflows.contract import ContractWorkflow

HERE = Path(__file__).parents[1] / "histories"
HISTORIES = sorted(HERE.rglob("*.json"))
RELEASES = sorted(p for p in HERE.iterdir() if p.is_dir() and any(p.glob("*.json")))


def test_there_are_recorded_histories_of_every_year_and_both_kinds() -> None:
    names = {p.name for p in HISTORIES}
    assert {f"cls-243500139-run{n}.json" for n in range(1, 5)} <= names
    assert {f"cls-d13-run{n}.json" for n in range(1, 5)} <= names


def test_the_releases_recorded_since_keep_lifecycles_campaigns_failures_and_search_attributes() -> None:
    """Each later release records the lifecycles, a campaign and the failure paths, as in production."""
    assert RELEASES, "no release recorded beside the first"
    for release in RELEASES:
        names = {p.name for p in release.glob("*.json")}
        assert {f"cls-243500139-run{n}.json" for n in range(1, 5)} <= names, release.name
        assert {f"cls-d13-run{n}.json" for n in range(1, 5)} <= names, release.name
        assert any(n.startswith("campaign-") for n in names), release.name
        kinds = {e["eventType"] for p in release.glob("*.json") for e in json.loads(p.read_text())["events"]}
        assert "EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES" in kinds, f"{release.name}: search attributes off"
        assert "EVENT_TYPE_ACTIVITY_TASK_FAILED" in kinds, f"{release.name}: no failure path"
        assert "EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED" in kinds, f"{release.name}: no campaign"


@pytest.mark.parametrize("path", HISTORIES, ids=[str(p.relative_to(HERE).with_suffix("")) for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    text = path.read_text()  # noqa: ASYNC240 - a small local file, read once
    history = WorkflowHistory.from_json(path.stem.rsplit("-run", 1)[0], text)
    replayer = Replayer(workflows=[ContractWorkflow, CampaignWorkflow], data_converter=REPLAY_CONVERTER)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


async def test_a_changed_rule_fails_the_replay_naming_the_contract_and_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """The workflow folds what was stored: replayed, a rule that now decides differently (the proposal's ceiling
    doubled) no longer matches the store's answer recorded in the history, and the replay fails loudly — it used to
    replay cleanly with twice the stored amount in the live state."""
    import domain.decider

    real = domain.decider.decide

    def doubled(command, state, policy, *args, **kwargs):  # type: ignore[no-untyped-def]
        events = real(command, state, policy, *args, **kwargs)
        return [
            e.model_copy(update={"annual_ceiling": e.annual_ceiling * 2}) if e.type == "ContractProposed" else e
            for e in events
        ]

    monkeypatch.setattr(domain.decider, "decide", doubled)
    path = next(p for p in HISTORIES if p.name == "cls-243500139-run1.json")
    history = WorkflowHistory.from_json("cls-243500139", path.read_text())
    replayer = Replayer(workflows=[ContractWorkflow], data_converter=REPLAY_CONVERTER)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert "non-determinism: cls-243500139 version 1" in str(result.replay_failure)
