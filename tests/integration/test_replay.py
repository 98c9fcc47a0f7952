"""Recorded histories of whole lifecycles replay against today's workflow code: a non-deterministic change fails here.

Re-record with `python -m tests.histories.record` only after a change made safe with `workflow.patched` (README).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.contract import ContractWorkflow

HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))


def test_there_are_recorded_histories_of_every_year_and_both_kinds() -> None:
    names = {p.name for p in HISTORIES}
    assert {f"cls-243500139-run{n}.json" for n in range(1, 5)} <= names
    assert {f"cls-d13-run{n}.json" for n in range(1, 5)} <= names


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    text = path.read_text()  # noqa: ASYNC240 - a small local file, read once
    history = WorkflowHistory.from_json(path.stem.rsplit("-run", 1)[0], text)
    replayer = Replayer(workflows=[ContractWorkflow], data_converter=pydantic_data_converter)
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
    replayer = Replayer(workflows=[ContractWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert "non-determinism: cls-243500139 version 1" in str(result.replay_failure)
