"""Every Temporal call the service makes has a deadline and a clear answer when it passes (issue 27, item 6).

On a real Temporal server, with no worker polling the contracts' task queue: an import (which used to hang past 240 s),
a proposal, a command and a read each answer ``timeout`` within their bound. The bounds are shortened here; in
production a command's is 75 s (above an append's 60 s of retries) and a read's 10 s.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.actors import Actor, Role
from domain.errors import DomainError
from eventstore.store import EventStore
from pacte.reprise_file import dump_lines
from pacte.service import operations
from pacte.service.catalogue import ProposeBody
from pacte.service.facade import Pacte
from pacte.settings import Settings
from workflows.contract import ContractWorkflow
from workflows.models import ContractWorkflowInput

pytestmark = pytest.mark.integration

NANCY, CID = "245400676", "cls-245400676"  # Métropole du Grand Nancy (Meurthe-et-Moselle)
PREFET = Actor(role=Role.PREFET, identity="prefecture-meurthe-et-moselle", scope=("54", "88"))
HARNESS_S = 150  # the test's own guard: far above the shortened bounds, far below a hang


@pytest.fixture
def nobody_polls(temporal_env: WorkflowEnvironment, store: EventStore, monkeypatch: pytest.MonkeyPatch) -> Pacte:
    monkeypatch.setattr(operations, "UPDATE_TIMEOUT_S", 5.0)
    monkeypatch.setattr(operations, "CALL_TIMEOUT_S", 5.0, raising=False)
    settings = Settings(task_queue=f"nobody-{uuid.uuid4().hex[:6]}")
    return Pacte(client=temporal_env.client, store=store, settings=settings)


async def test_an_import_with_no_worker_answers_timeout(nobody_polls: Pacte) -> None:
    line = {
        "contract_id": CID,
        "type": "ProposeContract",
        "occurred_at": "2023-12-05",
        "actor": PREFET.model_dump(mode="json"),
        "territory_id": NANCY,
        "annual_ceiling": 150_000_000,
        "source": "convention CLS du Grand Nancy, réf. CLS-54-2023-01",
    }
    async with asyncio.timeout(HARNESS_S):
        with pytest.raises(DomainError) as info:
            await nobody_polls.import_file(PREFET, dump_lines([line]))
    assert info.value.code == "timeout" and CID in info.value.message


async def test_a_proposal_a_command_and_a_read_with_no_worker_answer_timeout(
    nobody_polls: Pacte, temporal_env: WorkflowEnvironment
) -> None:
    async with asyncio.timeout(HARNESS_S):
        with pytest.raises(DomainError) as info:
            await nobody_polls.propose(PREFET, ProposeBody(territory="D88", annual_ceiling=100_000_000))
        assert info.value.code == "timeout"
        # A contract whose workflow exists but no worker runs: a read (a query) answers too.
        cid = "cls-d55"
        await temporal_env.client.start_workflow(
            ContractWorkflow.run,
            ContractWorkflowInput(contract_id=cid),
            id=cid,
            task_queue=nobody_polls.settings.task_queue,
        )
        with pytest.raises(DomainError) as info:
            await nobody_polls.contract(Actor(role=Role.AUDITOR, identity="ccomptes", scope=("*",)), cid)
        assert info.value.code == "timeout"
        with pytest.raises(DomainError) as info:
            await nobody_polls.command(
                Actor(role=Role.PREFET, identity="prefecture-meuse", scope=("55",)),
                "Terminate",
                {"contract_id": cid},
                {"reason": "arrêt", "occurred_at": datetime(2024, 1, 5, tzinfo=UTC).date().isoformat()},
            )
        assert info.value.code == "timeout"
