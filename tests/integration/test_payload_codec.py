"""Temporal's frontend is not a door around every check (issue 25, item 7): every payload is sealed with Pacte's
keyring, the worker refuses whatever is not, and nothing is wedged by a refusal. On a real Temporal server.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RawValue
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.actors import Actor, Person, Role
from domain.commands import ProposeContract, Terminate
from domain.state import Status
from eventstore.store import EventStore
from pacte.codec import KEY_ID, SEALED, WORKFLOW_ID, data_converter
from pacte.keyring import Keyring
from pacte.runtime import build_worker
from pacte.service import operations
from tests.sealing import TEST_KEYRING
from workflows.contract import ContractWorkflow
from workflows.models import CommandRequest, ContractWorkflowInput

pytestmark = pytest.mark.integration

JEANNE = Person(sub="sub-jeanne-secret", name="Jeanne Secretdenom", email="jeanne.secretdenom@lot.gouv.fr")
PREFET = Actor(role=Role.PREFET, identity="prefecture-lot", scope=("46",), person=JEANNE)
# Whoever reaches Temporal's frontend may write any actor: the préfet of any territory, say, who may end its contract.
MADE_UP = Actor(role=Role.PREFET, identity="quelqu-un", scope=())


def prefet_of(contract_id: str) -> Actor:
    return PREFET.model_copy(update={"scope": (contract_id.removeprefix("cls-d").upper(),)})


async def proposed(client: Client, task_queue: str, store: EventStore, territory: str) -> str:
    command = ProposeContract(
        contract_id=f"cls-{territory.lower()}",
        actor=prefet_of(f"cls-{territory.lower()}"),
        request_id=str(uuid.uuid4()),
        at=datetime(2023, 12, 1, tzinfo=UTC),
        territory_id=territory,
        annual_ceiling=50_000_000,
    )
    outcome = await operations.propose(client, task_queue, command, store=store)
    assert outcome.created
    return outcome.contract_id


def rejected_and_sealed(error: BaseException) -> bool:
    """The update was rejected, and its rejection is sealed too: a client without the codec cannot even read it
    (its converter meets a sealed payload), one with another keyring reads a refusal of the payload."""
    if isinstance(error, KeyError):
        return "Unknown payload encoding binary/pacte-sealed" in str(error)
    return isinstance(error, ApplicationError) and error.type == "payload_refused"


def termination(contract_id: str, actor: Actor) -> Terminate:
    """Résiliation: allowed to the préfet of the territory from the proposal on (and the most damaging forgery)."""
    return Terminate(
        contract_id=contract_id,
        actor=actor,
        request_id=str(uuid.uuid4()),
        at=datetime(2023, 12, 2, tzinfo=UTC),
        reason="résilié par un tiers",
    )


async def snapshot(client: Client, store: EventStore, contract_id: str) -> tuple[object, ...]:
    state = await operations.handle(client, contract_id).query(ContractWorkflow.state)
    events = [(e.version, e.event_type) for e in await store.read_stream(contract_id)]
    return state.status, state.version, tuple(events)


async def then_a_proper_command_is_accepted(client: Client, store: EventStore, contract_id: str) -> None:
    """The refusal wedged nothing: the contract takes Pacte's own next command at once."""
    result = await operations.send_command(client, termination(contract_id, prefet_of(contract_id)), store=store)
    assert result.version == await store.stream_version(contract_id)
    state = await operations.handle(client, contract_id).query(ContractWorkflow.state)
    assert state.status is Status.TERMINATED


@pytest.mark.parametrize("sender", ["no codec", "another keyring"])
async def test_a_forged_update_is_refused_changes_nothing_and_wedges_nothing(
    client: Client, task_queue: str, store: EventStore, temporal_address: str, sender: str
) -> None:
    territory = "D24" if sender == "no codec" else "D21"  # départements no other test proposes
    contract_id = await proposed(client, task_queue, store, territory)
    before = await snapshot(client, store, contract_id)
    converter = pydantic_data_converter if sender == "no codec" else data_converter(Keyring.generate("test-1"))
    raw = await Client.connect(temporal_address, data_converter=converter)

    with pytest.raises(Exception) as refused:
        await raw.get_workflow_handle(contract_id).execute_update(
            "execute",
            CommandRequest(
                command=termination(contract_id, MADE_UP.model_copy(update={"scope": prefet_of(contract_id).scope}))
            ),
            id=str(uuid.uuid4()),
        )
    assert rejected_and_sealed(refused.value)

    assert await snapshot(client, store, contract_id) == before
    await then_a_proper_command_is_accepted(client, store, contract_id)


async def test_a_sealed_payload_taken_from_one_contract_is_refused_by_another(
    client: Client, task_queue: str, store: EventStore, temporal_address: str
) -> None:
    """Someone reading the history cannot open it, and cannot replay what it holds elsewhere: a sealed update input
    copied from contract A's history, sent as is to contract B, is refused (sealed for A's workflow)."""
    first = await proposed(client, task_queue, store, "D22")
    second = await proposed(client, task_queue, store, "D61")
    ended = termination(second, prefet_of(second))  # names B: only the seal binds it to A
    sealed_for_first = (
        await client.data_converter.with_context(_workflow(first)).encode([CommandRequest(command=ended)])
    )[0]
    assert sealed_for_first.metadata[WORKFLOW_ID] == first.encode()
    before = await snapshot(client, store, second)
    raw = await Client.connect(temporal_address, data_converter=pydantic_data_converter)
    with pytest.raises(Exception) as refused:
        await raw.get_workflow_handle(second).execute_update("execute", RawValue(sealed_for_first), id="replayed")
    assert rejected_and_sealed(refused.value)
    assert await snapshot(client, store, second) == before


def _workflow(workflow_id: str) -> object:
    from temporalio.converter import WorkflowSerializationContext

    return WorkflowSerializationContext(namespace="default", workflow_id=workflow_id)


async def test_a_forged_start_fails_its_own_workflow_at_once(
    client: Client, task_queue: str, temporal_address: str
) -> None:
    """A workflow started from outside with an unsealed input fails (a non-retryable refusal), instead of a workflow
    task retried forever."""
    raw = await Client.connect(temporal_address, data_converter=pydantic_data_converter)
    forged = await raw.start_workflow(
        "ContractWorkflow",
        ContractWorkflowInput(contract_id="cls-999999999"),
        id=f"forged-{uuid.uuid4().hex[:6]}",
        task_queue=task_queue,
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await client.get_workflow_handle(forged.id).result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "payload_refused"


async def test_persons_are_sealed_in_temporals_history(
    client: Client, task_queue: str, store: EventStore, temporal_address: str
) -> None:
    contract_id = await proposed(client, task_queue, store, "D82")
    raw = await Client.connect(temporal_address, data_converter=pydantic_data_converter)
    history = await raw.get_workflow_handle(contract_id).fetch_history()
    text = history.to_json()
    assert (
        JEANNE.name not in text
        and JEANNE.email not in text
        and "prefecture-lot" not in text
        and PREFET.identity == "prefecture-lot"
    )
    payloads = [p for p in _payloads(history.to_json_dict())]
    assert payloads and all(p["metadata"]["encoding"] == _b64(SEALED) for p in payloads)
    assert {p["metadata"][KEY_ID] for p in payloads} == {_b64(TEST_KEYRING.active.encode())}


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def _payloads(node: object) -> list[dict[str, dict[str, str]]]:
    """Every payload of a history's JSON (a dict with metadata and data)."""
    if isinstance(node, dict):
        if node.get("markerName") == "core_patch":  # a patch's name, written by the SDK's core: never sealed
            return []
        node = {k: v for k, v in node.items() if k not in ("searchAttributes", "header")}  # never persons, not sealed
        if "metadata" in node and isinstance(node["metadata"], dict) and "encoding" in node["metadata"]:
            return [node]
        return [p for value in node.values() for p in _payloads(value)]
    if isinstance(node, list):
        return [p for value in node for p in _payloads(value)]
    return []


async def test_a_rotated_keyring_opens_the_old_payloads_and_seals_with_the_new_key(
    temporal_env: WorkflowEnvironment, store: EventStore, temporal_address: str
) -> None:
    """A contract begun under key k1 goes on under a keyring rotated to k2: its history (sealed with k1) replays in a
    worker that keeps no cache, and what is sealed from then on names k2. A keyring without k1 cannot open it."""
    old = Keyring.generate("k1")
    new = old.rotated("k2")
    queue = f"pacte-rotation-{uuid.uuid4().hex[:6]}"
    before = await Client.connect(temporal_address, data_converter=data_converter(old))
    async with build_worker(before, store, queue):
        contract_id = await proposed(before, queue, store, "D91")
    after = await Client.connect(temporal_address, data_converter=data_converter(new))
    async with _uncached_worker(after, store, queue):  # every task replays the whole history, sealed with k1
        await operations.send_command(after, termination(contract_id, prefet_of(contract_id)), store=store)
        state = await operations.handle(after, contract_id).query(ContractWorkflow.state)
    assert state.status is Status.TERMINATED
    history = await before.get_workflow_handle(contract_id).fetch_history()
    keys = [p["metadata"][KEY_ID] for p in _payloads(history.to_json_dict())]
    assert _b64(b"k1") in keys and keys[-1] == _b64(b"k2")

    lost = await Client.connect(temporal_address, data_converter=data_converter(new.without("k1")))
    with pytest.raises(ApplicationError, match="not in Pacte's keyring"):
        await _first_input(lost, contract_id)


async def _first_input(client: Client, workflow_id: str) -> object:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    return (await client.data_converter.decode([started], [ContractWorkflowInput]))[0]


def _uncached_worker(client: Client, store: EventStore, queue: str) -> Worker:
    return build_worker(client, store, queue, max_cached_workflows=0)
