"""Operations shared by the CLI and the HTTP API: each validates first, so a refusal starts and writes nothing."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import structlog
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.attempts import check_new_attempt
from domain.business_time import business_date
from domain.commands import Command, ProposeContract
from domain.decider import decide
from domain.errors import DomainError
from domain.evolve import evolve, fold
from domain.policy import in_code
from domain.reprise import IMPORT_LINES, ImportLine, LineRefused, import_history
from domain.state import INITIAL_STATE, ContractState
from domain.territories import MAX_ATTEMPTS, Territory, attempt_of, contract_id_for
from domain.upcasting import parse_event
from eventstore.records import RecordedEvent
from eventstore.store import EventStore
from workflows.contract import ContractWorkflow
from workflows.models import CommandRequest, CommandResult, ContractWorkflowInput, ImportFileUpdate, ImportRequest

T = TypeVar("T")


class ContractNotFound(LookupError):
    def __init__(self, contract_id: str) -> None:
        super().__init__(f"no contract {contract_id!r}")
        self.contract_id = contract_id


@dataclass(frozen=True)
class ProposeOutcome:
    contract_id: str
    created: bool  # False: the contract already existed, nothing was written
    result: CommandResult | None


def handle(client: Client, contract_id: str) -> WorkflowHandle[ContractWorkflow, ContractState]:
    return client.get_workflow_handle_for(ContractWorkflow.run, contract_id)


def _refusal(exc: WorkflowUpdateFailedError) -> Exception:
    """The domain's refusal an update carries back (a line of an import file named), or the failure itself."""
    cause = exc.cause
    if not (isinstance(cause, ApplicationError) and cause.details):
        return exc
    detail = cause.details[0]
    error = DomainError.from_dict(detail)
    return LineRefused(detail["line"], error) if detail.get("line") is not None else error


UPDATE_TIMEOUT_S = 75.0  # above the append's bounded retries (60 s): a caller always gets an answer
# A start, a query, a describe: Temporal answers these at once when it and a worker are up. No call waits unbounded.
CALL_TIMEOUT_S = 10.0


async def bounded(awaitable: Awaitable[T], contract_id: str, what: str, seconds: float | None = None) -> T:
    """``awaitable`` within its deadline (``seconds``, else a read's), or a ``timeout`` problem that says what."""
    limit = CALL_TIMEOUT_S if seconds is None else seconds
    try:
        return await asyncio.wait_for(awaitable, limit)
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise timeout(contract_id, what, limit) from None
    except RPCError as exc:
        if exc.status is RPCStatusCode.DEADLINE_EXCEEDED:
            raise timeout(contract_id, what, limit) from None
        raise


def timeout(contract_id: str, what: str, seconds: float) -> DomainError:
    return DomainError(
        f"contract_id: {contract_id} did not answer within {seconds:.0f} s ({what}); is a worker running? "
        + (
            "The command may still be recorded — send it again with the same Idempotency-Key to know"
            if what in ("command", "import")
            else "Nothing was changed"
        ),
        field="contract_id",
        code="timeout",
        rule="timeout",
    )


async def send_command(
    client: Client,
    command: Command,
    *,
    answer_within_s: float | None = None,
    store: EventStore | None = None,
    state: bool = True,
) -> CommandResult:
    """Send a command as an update whose id is the request id: the same request twice gets the same answer. It
    answers within ``answer_within_s`` whatever the contract is doing; past it, the caller is told to retry (the same request
    id makes that harmless). An answer ``outcome_unknown`` is asked again of the contract (see ``_after_unknown``).
    The update answers the version and the events; ``state``: the contract's state is read after it (a query)."""
    within = UPDATE_TIMEOUT_S if answer_within_s is None else answer_within_s
    try:
        result = await bounded(
            handle(client, command.contract_id).execute_update(
                ContractWorkflow.execute, CommandRequest(command=command), id=command.request_id
            ),
            command.contract_id,
            "command",
            within,
        )
        return await with_state(client, command.contract_id, result) if state else result
    except WorkflowUpdateFailedError as exc:
        refusal = _refusal(exc)
        if isinstance(refusal, DomainError) and refusal.code == "outcome_unknown":
            return await _after_unknown(client, command, within, store, refusal)
        raise refusal from None
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise ContractNotFound(command.contract_id) from exc
        raise


async def with_state(client: Client, contract_id: str, result: CommandResult) -> CommandResult:
    """The answer with the contract's state read after the update (the update itself answers no state)."""
    if result.state is not None:  # an answer from a worker of before this change
        return result
    return result.model_copy(update={"state": await current_state(client, contract_id)})


async def _after_unknown(
    client: Client, command: Command, answer_within_s: float, store: EventStore | None, unknown: DomainError
) -> CommandResult:
    """Temporal keeps an update's first answer under its id, so the same request sent again gets "outcome unknown"
    back even once the contract knows better. Ask the contract: recorded (answered with its events, read from the
    store), not recorded (sent again under a derived update id: the request id, which the rules deduplicate on, is
    the same), or still unknown."""
    contract, cid = handle(client, command.contract_id), command.contract_id
    outcome = await bounded(contract.query(ContractWorkflow.request_outcome, command.request_id), cid, "read")
    if outcome == "recorded":
        state = await bounded(contract.query(ContractWorkflow.state), cid, "read")
        events = []
        if store is not None:
            events = [
                e.payload
                for e in await store.read_stream(command.contract_id)
                if e.metadata.get("request_id") == command.request_id
            ]
        return CommandResult(version=state.version, events=events, state=state)
    if outcome == "not_recorded":
        try:
            return await bounded(
                contract.execute_update(
                    ContractWorkflow.execute, CommandRequest(command=command), id=f"{command.request_id}/again"
                ),
                cid,
                "command",
                answer_within_s,
            )
        except WorkflowUpdateFailedError as exc:
            raise _refusal(exc) from None
    raise unknown


def _with_start(
    task_queue: str,
    contract_id: str,
    *,
    clock_offset_s: float = 0.0,
    search_attributes: bool = False,
    territories: tuple[Territory, ...] = (),
) -> WithStartWorkflowOperation[ContractWorkflow, ContractState]:
    """How a contract's workflow starts when its first command comes (update-with-start): the start and the command
    are one request, so no workflow is ever left idle with no state, and the command is in its first task."""
    return WithStartWorkflowOperation(
        ContractWorkflow.run,
        _input(contract_id, clock_offset_s, search_attributes, territories),
        id=contract_id,
        task_queue=task_queue,
        # A running contract takes the command; a closed contract's id is never reused: its history stays its own.
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )


def _input(
    contract_id: str, clock_offset_s: float, search_attributes: bool, territories: tuple[Territory, ...]
) -> ContractWorkflowInput:
    """A contract workflow's input, whether it starts with its first command or alone."""
    return ContractWorkflowInput(
        contract_id=contract_id,
        clock_offset_s=clock_offset_s,
        search_attributes=search_attributes,
        territories=territories,
    )


async def start_contract(
    client: Client,
    task_queue: str,
    contract_id: str,
    *,
    clock_offset_s: float = 0.0,
    search_attributes: bool = False,
    territories: tuple[Territory, ...] = (),
) -> None:
    """Start (or join) the contract's workflow. A closed contract's id is never reused: its history stays its own.
    ``territories``: beyond the reference list, those it may be proposed for (a simulation's synthetic ones)."""
    await bounded(
        client.start_workflow(
            ContractWorkflow.run,
            _input(contract_id, clock_offset_s, search_attributes, territories),
            id=contract_id,
            task_queue=task_queue,
            # Starting twice is harmless: the second start joins the running workflow.
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        ),
        contract_id,
        "start",
    )


async def propose(
    client: Client,
    task_queue: str,
    command: ProposeContract,
    *,
    store: EventStore | None = None,
    clock_offset_s: float = 0.0,
    search_attributes: bool = False,
) -> ProposeOutcome:
    """Propose the territory's contract. With the store, a territory whose latest contract has ended (résilié, signed
    or not, or closed: domain/attempts.py) gets a new attempt, ``cls-<siren>-2``…, linked to the earlier contract
    (``replaces``), dated on or after the day it ended: never locked out, never two live contracts, and auditors see
    every history. The check and the creation happen under the territory's guard (``territory_guard``)."""
    # Dry run first: an unknown territory or a bad ceiling must not even start a workflow.
    decide(command, INITIAL_STATE, in_code())
    first = contract_id_for(command.territory_id)
    if store is None:  # no store to read earlier attempts from: the territory's first contract, or nothing
        outcome = await _propose_attempt(client, task_queue, command, 1, None, None, clock_offset_s, search_attributes)
        return outcome or ProposeOutcome(contract_id=first, created=False, result=None)
    async with store.territory_guard(first):
        latest, earlier = await latest_attempt(store, first)
        if earlier is not None and command.request_id in earlier.request_ids:
            # The same request again (same Idempotency-Key and content: its first answer was lost, a connection
            # dropped): answered with what it recorded, not refused as "already exists" (issue 28's chaos run).
            contract_id = contract_id_for(command.territory_id, latest)
            events = [
                e.payload
                for e in await store.read_stream(contract_id)
                if e.metadata.get("request_id") == command.request_id
            ]
            result = CommandResult(version=earlier.version, events=events, state=earlier)
            return ProposeOutcome(contract_id=contract_id, created=True, result=result)
        check_new_attempt(earlier, business_date(command.at))
        replaces = contract_id_for(command.territory_id, latest) if latest else None
        for attempt in range(latest + 1, MAX_ATTEMPTS + 1):
            outcome = await _propose_attempt(
                client, task_queue, command, attempt, replaces, store, clock_offset_s, search_attributes
            )
            if outcome is not None:
                return outcome
    raise DomainError(
        f"territory: {command.territory_id} has had {MAX_ATTEMPTS} contracts already",
        field="territory",
        code="already_exists",
        rule="territory.attempts_exhausted",
        params={"limit": MAX_ATTEMPTS},
    )


async def latest_attempt(store: EventStore, first: str) -> tuple[int, ContractState | None]:
    """The territory's latest contract with a history (``first`` names the territory: its first contract id): its
    attempt number and its state, or (0, None) if it has none."""
    ids = {contract_id_for(first.removeprefix("cls-"), n): n for n in range(1, MAX_ATTEMPTS + 1)}
    held = await store.streams_with_history(list(ids))
    if not held:
        return 0, None
    latest = max(ids[cid] for cid in held)
    return latest, fold(await store.load_events(contract_id_for(first.removeprefix("cls-"), latest)))


async def _propose_attempt(
    client: Client,
    task_queue: str,
    command: ProposeContract,
    attempt: int,
    replaces: str | None,
    store: EventStore | None,
    clock_offset_s: float,
    search_attributes: bool,
) -> ProposeOutcome | None:
    """The proposal as the territory's ``attempt``-th contract; None: a workflow ran under that id and recorded
    nothing (its proposal was refused), so the id holds no contract and the next one is tried."""
    contract_id = contract_id_for(command.territory_id, attempt)
    attempt_command = command.model_copy(update={"contract_id": contract_id, "replaces": replaces})
    start = _with_start(task_queue, contract_id, clock_offset_s=clock_offset_s, search_attributes=search_attributes)
    try:
        result = await bounded(
            client.execute_update_with_start_workflow(
                ContractWorkflow.execute,
                CommandRequest(command=attempt_command),
                start_workflow_operation=start,
                id=attempt_command.request_id,
            ),
            contract_id,
            "command",
            UPDATE_TIMEOUT_S,
        )
    except WorkflowAlreadyStartedError:  # a workflow ran under this id already, and has ended
        if store is not None and await store.stream_version(contract_id) == 0:
            return None  # and recorded nothing (its proposal was refused): the id holds no contract
        return ProposeOutcome(contract_id=contract_id, created=False, result=None)
    except WorkflowUpdateFailedError as exc:
        refusal = _refusal(exc)
        if isinstance(refusal, DomainError) and refusal.code == "already_exists":
            return ProposeOutcome(contract_id=contract_id, created=False, result=None)
        if isinstance(refusal, DomainError) and refusal.code == "outcome_unknown":
            result = await _after_unknown(client, attempt_command, UPDATE_TIMEOUT_S, store, refusal)
            return ProposeOutcome(contract_id=contract_id, created=True, result=result)
        raise refusal from None
    return ProposeOutcome(contract_id=contract_id, created=True, result=await with_state(client, contract_id, result))


@dataclass(frozen=True)
class ImportResult:
    contract_id: str
    version: int
    events: int  # 0: the same history was already there, nothing was written


async def import_contract(
    client: Client,
    task_queue: str,
    contract_id: str,
    lines: tuple[ImportLine, ...],
    *,
    store: EventStore | None = None,
    clock_offset_s: float = 0.0,
    search_attributes: bool = False,
    dry_run: bool = False,
) -> ImportResult:
    """Take over a contract's history: a dry run first (a refused file starts nothing); with the store, a contract
    it holds already is answered from it, as a proposal is (the same file: unchanged; another: refused), before
    anything starts; then one update-with-start that decides the file again in the workflow and records it in one
    append. The same file again records nothing. ``dry_run``: every check above, then the events it would record
    counted, and nothing started nor written."""
    decided, _ = import_history(lines, INITIAL_STATE, in_code(), datetime.now(UTC) + timedelta(seconds=clock_offset_s))
    if dry_run and store is None:
        return ImportResult(contract_id=contract_id, version=len(decided), events=len(decided))
    if store is None:
        return await _import_started(client, task_queue, contract_id, lines, clock_offset_s, search_attributes)
    # The file's first line proposed the contract (the dry run refuses any other): the territory's new contract
    # starts only as a proposal would (domain/attempts.py), checked and created under the territory's guard.
    first, attempt = attempt_of(contract_id)
    async with store.territory_guard(first):
        if await store.stream_version(contract_id) > 0:
            return _already_there(contract_id, lines, fold(await store.load_events(contract_id)))
        latest, earlier = await latest_attempt(store, first)
        if latest > attempt:
            raise DomainError(
                f"contract_id: {contract_id_for(first.removeprefix('cls-'), latest)} is this territory's latest "
                f"contract; a contract taken over comes after it, not as {contract_id}",
                field="contract_id",
                code="already_exists",
                rule="attempt.not_after_latest",
                params={"contract": contract_id_for(first.removeprefix("cls-"), latest)},
            )
        if latest == 0 and attempt > 1:
            # A territory's later attempt follows a contract Pacte holds; without one, the file takes over its first
            # (else a campaign or a proposal would start ``cls-<siren>`` beside it: two live contracts).
            raise DomainError(
                f"contract_id: {first} has no history; a contract taken over with no earlier one in Pacte is {first}, "
                f"not {contract_id}",
                field="contract_id",
                code="invalid_value",
                rule="attempt.no_earlier",
                params={"contract": first},
            )
        check_new_attempt(earlier, business_date(lines[0].command.at))
        if dry_run:
            return ImportResult(contract_id=contract_id, version=len(decided), events=len(decided))
        digest = await store.put_import_file(contract_id, IMPORT_LINES.dump_json(lines).decode())
        return await _import_kept(client, task_queue, contract_id, lines, digest, clock_offset_s, search_attributes)


async def _import_kept(
    client: Client,
    task_queue: str,
    contract_id: str,
    lines: tuple[ImportLine, ...],
    digest: str,
    clock_offset_s: float,
    search_attributes: bool,
) -> ImportResult:
    """One update-with-start naming the file kept in the store by its hash: the worker's activity decides it and
    appends it in one transaction, whatever its size within the documented bounds (issue 27, item 7)."""
    start = _with_start(task_queue, contract_id, clock_offset_s=clock_offset_s, search_attributes=search_attributes)
    try:
        result = await bounded(
            client.execute_update_with_start_workflow(
                ContractWorkflow.import_file,
                ImportFileUpdate(digest=digest),
                start_workflow_operation=start,
                id=f"import:{digest[:32]}:{uuid.uuid4().hex[:12]}",
            ),
            contract_id,
            "import",
            UPDATE_TIMEOUT_S,
        )
    except WorkflowAlreadyStartedError:  # the contract ran to its end already (an imported closed contract, say)
        return _already_there(contract_id, lines, await closed_state(client, contract_id))
    except WorkflowUpdateFailedError as exc:
        raise _refusal(exc) from None
    return ImportResult(contract_id=contract_id, version=result.version, events=result.recorded or 0)


async def _import_started(
    client: Client,
    task_queue: str,
    contract_id: str,
    lines: tuple[ImportLine, ...],
    clock_offset_s: float,
    search_attributes: bool,
) -> ImportResult:
    """One update-with-start that decides the file again in the workflow and records it in one append."""
    request = ImportRequest(lines=lines)
    # Its own update id: Temporal would answer a repeated id with the first answer ("imported"), while the domain
    # itself records a file already in once (each line's request id derives from its content) and says "unchanged".
    digest = hashlib.sha256("\n".join(line.command.request_id for line in lines).encode()).hexdigest()[:32]
    start = _with_start(task_queue, contract_id, clock_offset_s=clock_offset_s, search_attributes=search_attributes)
    try:
        result = await bounded(
            client.execute_update_with_start_workflow(
                ContractWorkflow.import_history,
                request,
                start_workflow_operation=start,
                id=f"import:{digest}:{uuid.uuid4().hex[:12]}",
            ),
            contract_id,
            "import",
            UPDATE_TIMEOUT_S,
        )
    except WorkflowAlreadyStartedError:  # the contract ran to its end already (an imported closed contract, say)
        return _already_there(contract_id, lines, await closed_state(client, contract_id))
    except WorkflowUpdateFailedError as exc:
        raise _refusal(exc) from None
    return ImportResult(contract_id=contract_id, version=result.version, events=len(result.events))


def _already_there(contract_id: str, lines: tuple[ImportLine, ...], state: ContractState) -> ImportResult:
    """A contract with a history: the same file again is unchanged; any other is refused (nothing started)."""
    if all(line.command.request_id in state.request_ids for line in lines):
        return ImportResult(contract_id=contract_id, version=state.version, events=0)
    raise DomainError(
        f"contract_id: {contract_id} already has a history",
        field="contract_id",
        code="already_exists",
        rule="contract.has_history",
    )


async def closed_state(client: Client, contract_id: str) -> ContractState:
    """The final state of a contract whose workflow has ended (its result)."""
    state: ContractState = await bounded(handle(client, contract_id).result(), contract_id, "read")
    return state


async def check_command(client: Client, command: Command) -> None:
    """Refuse ``command`` as the contract would now (a DomainError), writing nothing; return if it would be taken."""
    try:
        details = await bounded(
            handle(client, command.contract_id).query(ContractWorkflow.refusal_of, CommandRequest(command=command)),
            command.contract_id,
            "read",
        )
    except WorkflowQueryFailedError:
        # A worker of before this query (a rolling deployment): no dry run; the act itself is still decided by the
        # contract when it is sent, and refused there if it must be.
        return
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise ContractNotFound(command.contract_id) from exc
        raise
    if details is not None:
        raise DomainError.from_dict(details)


async def current_state(client: Client, contract_id: str) -> ContractState:
    try:
        return await bounded(handle(client, contract_id).query(ContractWorkflow.state), contract_id, "read")
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise ContractNotFound(contract_id) from exc
        raise


log = structlog.stdlib.get_logger("pacte.service")


def store_diverged(contract_id: str, what: str) -> DomainError:
    """A contract's stream that no longer matches its workflow (events written behind its back, a store behind it, a
    fact no contract can hold): an error, logged with the contract and its workflow, never "retry later"."""
    log.error("store diverged from its workflow", contract_id=contract_id, workflow_id=contract_id, what=what)
    return DomainError(
        f"the event store no longer matches contract {contract_id} ({what}); the operators must examine it",
        field="contract_id",
        code="store_diverged",
        rule="store.diverged",
        params={"contract_id": contract_id},
    )


def fold_stored(contract_id: str, events: list[RecordedEvent]) -> ContractState:
    """The contract's state from its stored facts, or ``store_diverged`` naming the first one no contract can hold."""
    state = INITIAL_STATE
    for event in events:
        try:
            state = evolve(state, parse_event(event.payload))
        except Exception as exc:  # a payload that is not a fact, or a fact its contract cannot fold
            raise store_diverged(
                contract_id, f"version {event.version} ({event.event_type}) is not a fact this contract can hold"
            ) from exc
    return state


async def history(
    store: EventStore, contract_id: str, as_of: datetime | None = None, *, live_version: int | None = None
) -> list[RecordedEvent]:
    """The stored facts, each checked to be one of this contract's; with ``live_version`` (its workflow's), a stream
    that ends before it is ``store_diverged`` too."""
    version = await store.stream_version(contract_id)
    if version == 0:
        raise ContractNotFound(contract_id)
    if live_version is not None and version < live_version:
        raise store_diverged(contract_id, f"the stream ends at version {version}, its workflow is at {live_version}")
    events = await store.read_stream(contract_id, as_of=as_of)
    fold_stored(contract_id, events)
    return events
