"""`pacte replay-check`: the cluster's own histories replayed against the code about to be deployed (issue 27,
item 8), on a real Temporal server. A compatible build passes; a rule changed without ``workflow.patched`` fails,
naming the workflow, before any worker runs it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from temporalio.client import Client

from domain.actors import Actor, Role
from domain.commands import ProposeContract
from eventstore.store import EventStore
from pacte import service
from pacte.service import admin
from tests.integration.test_outcome_unknown import until

pytestmark = pytest.mark.integration

PREFET = Actor(role=Role.PREFET, identity="prefecture-vienne", scope=("86",))
QUERY = "WorkflowId = 'cls-d86'"


async def test_replay_check_passes_a_compatible_build_and_names_a_non_deterministic_one(
    client: Client, task_queue: str, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    proposal = ProposeContract(
        contract_id="cls-d86",
        actor=PREFET,
        request_id="replay-check-d86",
        at=datetime(2024, 1, 10, tzinfo=UTC),
        territory_id="D86",
        annual_ceiling=70_000_000,
    )
    outcome = await service.propose(client, task_queue, proposal, store=store)
    assert outcome.created

    async def listed() -> bool:  # Temporal's visibility store follows the start a moment later
        return (await client.count_workflows(QUERY)).count >= 1

    await until(listed)
    report = await admin.replay_check(client, query=QUERY, limit=10)
    assert report.ok and report.replayed == 1 and report.failures == []

    import domain.decider

    real = domain.decider.decide

    def doubled(command, state, policy, *args, **kwargs):  # type: ignore[no-untyped-def]
        events = real(command, state, policy, *args, **kwargs)
        return [
            e.model_copy(update={"annual_ceiling": e.annual_ceiling * 2}) if e.type == "ContractProposed" else e
            for e in events
        ]

    monkeypatch.setattr(domain.decider, "decide", doubled)
    report = await admin.replay_check(client, query=QUERY, limit=10)
    assert not report.ok and report.replayed == 1
    assert report.failures[0].workflow_id == "cls-d86" and "non-determinism" in report.failures[0].error
