"""A contract at every documented cap can be taken over by import (issue 27, item 7). Its file (1 320 facts, 2.9 MB)
was over Temporal's 2 MB payload limit as the update's input and the append activity's, and deciding it twice in one
workflow task tripped the deadlock detector: the file is now kept in PostgreSQL under its hash, the workflow passes
the hash, and one activity decides the file and appends its history in one transaction. On a real Temporal server.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.contracts import ImportFileRequest
from activities.eventstore_activities import EventStoreActivities
from domain.commands import Command
from domain.evolve import fold
from domain.policy import in_code
from domain.reprise import IMPORT_LINES, ImportLine, import_history
from domain.state import INITIAL_STATE, Status
from eventstore.integrity import verify
from eventstore.store import EventStore
from pacte import service
from pacte.embedded import SERVER_STARTUP, binary_path
from pacte.runtime import build_worker
from tests.conftest import create_fresh_database, drop_database
from tests.integration.test_outcome_unknown import LosingStore
from tests.unit.builders import COMMISSAIRE_75, Contract, at, command
from tests.unit.test_limits import TEMPORAL_PAYLOAD_LIMIT, drive_to_caps
from workflows.contract import ContractWorkflow
from workflows.models import ContractWorkflowInput, ImportFileUpdate, ImportRequest

pytestmark = pytest.mark.integration

CID = "cls-243300316"  # Bordeaux Métropole, as the caps test drives it


class Recorder(Contract):
    """The caps test's contract, keeping the commands it sent (the calendar's own facts left to the import)."""

    def __init__(self, contract_id: str) -> None:
        super().__init__(contract_id)
        self.commands: list[Command] = []

    def do(self, kind: str, actor: Any, when: Any, **fields: Any) -> list[Any]:
        sent = command(kind, self.contract_id, actor, when, **fields)
        if kind != "OpenProgrammeYear":
            self.commands.append(sent)
        return self.send(sent)


def file_at_caps() -> tuple[ImportLine, ...]:
    """Every cap of a contract (40 fiches of 8 indicators, long texts, every committee review of 2024, 24 avenants),
    then suspensions and resumptions up to the cap on facts: 1 320 lines."""
    c = Recorder(CID)
    drive_to_caps(c)
    start = at(2024, 7, 2)
    for n in range(640):
        c.commands.append(
            command("Suspend", CID, COMMISSAIRE_75, start + timedelta(minutes=2 * n), reason="é" * 500),
        )
        c.commands.append(
            command("Resume", CID, COMMISSAIRE_75, start + timedelta(minutes=2 * n + 1), reason="è" * 500)
        )
    return tuple(ImportLine(line=n, command=sent) for n, sent in enumerate(c.commands, 1))


class CommitThenDown(LosingStore):
    """The real store; once ``armed``, the next append commits and its answer is lost, then the store is ``down``
    (nothing readable) until the test lifts it."""

    def __init__(self, store: EventStore) -> None:
        super().__init__(store)
        self.armed = False
        self.down = False

    async def append(self, *args: Any, **kwargs: Any) -> Any:
        if self.down:
            raise ConnectionError("connection refused")
        result = await self.store.append(*args, **kwargs)
        if self.armed:
            self.armed, self.down = False, True
            self.lost += 1
            raise ConnectionError("connection lost after the commit")
        return result

    async def load_events(self, *args: Any, **kwargs: Any) -> Any:
        if self.down:
            raise ConnectionError("connection refused")
        return await self.store.load_events(*args, **kwargs)

    async def stream_version(self, *args: Any, **kwargs: Any) -> Any:
        if self.down:
            raise ConnectionError("connection refused")
        return await self.store.stream_version(*args, **kwargs)

    async def import_file(self, *args: Any, **kwargs: Any) -> Any:
        if self.down:
            raise ConnectionError("connection refused")
        return await self.store.import_file(*args, **kwargs)


@pytest.fixture
async def own_store(postgres_server_url: str) -> AsyncIterator[EventStore]:
    url = await create_fresh_database(postgres_server_url)
    opened = await EventStore.connect(url)
    yield opened
    await opened.close()
    await drop_database(postgres_server_url, url)


@pytest.fixture
async def own_temporal() -> AsyncIterator[WorkflowEnvironment]:
    """A Temporal server of its own: the contract id is the workflow id, and other files of the session's worker
    run Bordeaux's contract on the shared one (run j1: 'already has a history')."""
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=binary_path("temporal"),
        dev_server_startup_timeout=SERVER_STARTUP,
        dev_server_extra_args=["--log-level", "error"],
    )
    yield env
    await env.shutdown()


async def test_a_contract_at_every_cap_is_imported_through_its_kept_file(
    own_temporal: WorkflowEnvironment, own_store: EventStore
) -> None:
    temporal_env = own_temporal
    lines = file_at_caps()
    # What failed before: the lines as the update's input are over Temporal's payload limit.
    inline = pydantic_data_converter.payload_converter.to_payloads([ImportRequest(lines=lines)])[0].ByteSize()
    assert inline > TEMPORAL_PAYLOAD_LIMIT
    expected, _ = import_history(lines, INITIAL_STATE, in_code(), datetime.now(UTC))

    queue = f"caps-{uuid.uuid4().hex[:8]}"
    async with build_worker(temporal_env.client, own_store, queue):
        result = await service.import_contract(temporal_env.client, queue, CID, lines, store=own_store)
        assert result.events == len(expected) > 1300
        assert result.version == await own_store.stream_version(CID) == len(expected)
        stored = fold(await own_store.load_events(CID))
        live = await service.handle(temporal_env.client, CID).query(ContractWorkflow.state)
        assert live == stored
        assert live.status is Status.IN_EXECUTION
        async with own_store.pool.acquire() as conn:
            assert (await verify(conn)).ok

        again = await service.import_contract(temporal_env.client, queue, CID, lines, store=own_store)
        assert (again.events, again.version) == (0, result.version)  # the same file again records nothing

        # The contract lives on after its import: the next act is decided on the imported state.
        resumed = await service.send_command(
            temporal_env.client,
            command("Suspend", CID, COMMISSAIRE_75, datetime.now(UTC) - timedelta(minutes=1), reason="contrôle"),
        )
        assert resumed.version == result.version + 1


async def test_the_import_activity_refuses_a_file_naming_its_line_and_answers_a_retry_from_the_store(
    own_store: EventStore,
) -> None:
    activities = EventStoreActivities(own_store)
    env = ActivityEnvironment()
    lines = file_at_caps()[:4]  # proposed, voted, signed by both
    now = datetime.now(UTC)
    refused = (*lines, ImportLine(line=5, command=command("Resume", CID, COMMISSAIRE_75, at(2024, 3, 6), reason="r")))
    digest = await own_store.put_import_file(CID, IMPORT_LINES.dump_json(refused).decode())
    request = ImportFileRequest(stream_id=CID, digest=digest, expected_version=0, now=now, policy=in_code())
    with pytest.raises(ApplicationError) as info:
        await env.run(activities.import_file, request)
    assert info.value.non_retryable and info.value.details[0]["line"] == 5
    assert await own_store.stream_version(CID) == 0  # all or nothing

    digest = await own_store.put_import_file(CID, IMPORT_LINES.dump_json(lines).decode())
    request = request.model_copy(update={"digest": digest})
    first = await env.run(activities.import_file, request)
    assert first.recorded == first.version == await own_store.stream_version(CID) > 4
    # An attempt retried after its answer was lost finds the file's facts recorded and answers what they fold to.
    retried = await env.run(activities.import_file, request)
    assert (retried.version, retried.recorded, retried.state) == (first.version, first.recorded, first.state)

    # The database keeps a file under its own hash only.
    with pytest.raises(Exception, match="import_files_content_addressed"):
        await own_store.pool.execute(
            "INSERT INTO import_files (digest, contract_id, content) VALUES ($1, $2, $3)", "0" * 64, CID, "{}"
        )


async def test_an_import_whose_answer_is_lost_is_settled_by_the_next_update(
    temporal_env: WorkflowEnvironment, own_store: EventStore
) -> None:
    """Every attempt commits and loses its answer, and the store cannot be read back within the bound: the caller is
    told the outcome is unknown; the contract keeps the file pending and the next update settles it from the store
    (the same file sent again is answered with what it recorded), instead of a contract left with no state."""
    losing = CommitThenDown(own_store)
    queue = f"caps-lost-{uuid.uuid4().hex[:6]}"
    client = temporal_env.client
    lines = file_at_caps()[:4]
    digest = await own_store.put_import_file(CID, IMPORT_LINES.dump_json(lines).decode())
    async with build_worker(client, losing, queue):  # type: ignore[arg-type]
        handle = await client.start_workflow(
            ContractWorkflow.run,
            ContractWorkflowInput(contract_id=CID, append_total_s=3),
            id=f"{CID}:lost-{uuid.uuid4().hex[:6]}",  # the first test's contract runs on this server too
            task_queue=queue,
        )
        losing.armed = True
        with pytest.raises(WorkflowUpdateFailedError) as info:
            await handle.execute_update(ContractWorkflow.import_file, ImportFileUpdate(digest=digest))
        assert isinstance(info.value.cause, ApplicationError) and info.value.cause.type == "outcome_unknown"
        recorded = await own_store.stream_version(CID)
        assert recorded > 4 and losing.lost > 0  # committed, its answer lost

        losing.down = False
        again = await handle.execute_update(ContractWorkflow.import_file, ImportFileUpdate(digest=digest))
        assert (again.version, again.recorded) == (recorded, recorded)
        live = await handle.query(ContractWorkflow.state)
        stored = fold(await own_store.load_events(CID))
        assert live.model_dump() == stored.model_dump()
        assert live.status is Status.IN_EXECUTION
