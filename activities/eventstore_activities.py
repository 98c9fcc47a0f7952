"""Activities that write to the event store."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import (
    APPEND_EVENTS,
    CONTRACT_STATUSES,
    IMPORT_FILE,
    READ_EVENTS_AFTER,
    RECORD_REMINDER,
    AppendRequest,
    ContractStatus,
    ImportFileRequest,
    ImportFileResult,
    ReadAfterRequest,
    ReminderRequest,
)
from domain.errors import DomainError
from domain.evolve import fold
from domain.reprise import IMPORT_LINES, LineRefused, import_history
from domain.state import INITIAL_STATE, ContractState
from eventstore.records import AppendResult, new_event_from
from eventstore.resilience import TRANSIENT
from eventstore.store import ConcurrencyError, EventStore, StoreDiverged
from pacte import metrics

log = structlog.stdlib.get_logger("pacte.activities")


class EventStoreActivities:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    @activity.defn(name=APPEND_EVENTS)
    async def append_events(self, request: AppendRequest) -> AppendResult:
        info = activity.info()
        started = time.perf_counter()
        try:
            result = await self.store.append(request.stream_id, request.expected_version, request.events)
        except StoreDiverged as exc:
            metrics.APPEND_FAILURES.labels("diverged").inc()
            log.error(
                "store diverged from its workflow",
                contract_id=request.stream_id,
                workflow_id=info.workflow_id,
                error=str(exc)[:500],
            )
            raise ApplicationError(str(exc), type="store_diverged", non_retryable=True) from exc
        except ConcurrencyError as exc:
            metrics.APPEND_FAILURES.labels("concurrency").inc()
            # Not retryable: another writer owns that version; retrying would never succeed.
            raise ApplicationError(str(exc), type="ConcurrencyError", non_retryable=True) from exc
        except TRANSIENT:
            metrics.APPEND_FAILURES.labels("transient").inc()
            raise  # the connection, the server starting, a serialization failure: Temporal retries, bounded
        except Exception as exc:
            metrics.APPEND_FAILURES.labels("refused").inc()
            # Anything else is about the data (a value PostgreSQL cannot hold, a constraint): it will never succeed.
            log.error(
                "append refused by the store",
                contract_id=request.stream_id,
                workflow_id=info.workflow_id,
                error=repr(exc)[:500],
            )
            raise ApplicationError(
                f"the event store refused the events: {type(exc).__name__}", type="StoreRefused", non_retryable=True
            ) from exc
        metrics.APPEND_SECONDS.observe(time.perf_counter() - started)
        metrics.APPEND_BATCH.observe(len(request.events))
        if not result.already_appended:
            metrics.EVENTS_APPENDED.inc(len(request.events))
        log.info(
            "events appended",
            contract_id=request.stream_id,
            workflow_id=info.workflow_id,
            # An import appends up to 1 500 events: the line says how many of each type, not each one.
            event_types=dict(Counter(e.event_type for e in request.events)),
            version=result.version,
            already_appended=result.already_appended,
            attempt=info.attempt,
        )
        return result

    @activity.defn(name=IMPORT_FILE)
    async def import_file(self, request: ImportFileRequest) -> ImportFileResult:
        """Decide a kept import file and append its whole history in one transaction (all or nothing). A retry whose
        first attempt committed finds the file's facts in the stream and answers what they folded to."""
        info = activity.info()
        stream = request.stream_id
        kept = await self.store.import_file(request.digest)
        if kept is None or kept[0] != stream:
            raise ApplicationError(
                f"no import file {request.digest} kept for {stream}",
                {"code": "invalid_value", "message": "import file not found", "field": "digest"},
                type="invalid_value",
                non_retryable=True,
            )
        lines = IMPORT_LINES.validate_json(kept[1])
        version = await self.store.stream_version(stream)
        if version != request.expected_version:
            return await self._already_there(request, lines)
        try:
            events, _ = import_history(lines, INITIAL_STATE, request.policy, request.now)
        except DomainError as error:
            details = error.details() | ({"line": error.line} if isinstance(error, LineRefused) else {})
            raise ApplicationError(error.message, details, type=error.code, non_retryable=True) from None
        new_events = [
            new_event_from(
                stream, request.expected_version + i, event, workflow_id=info.workflow_id, run_id=info.workflow_run_id
            )
            for i, event in enumerate(events, 1)
        ]
        try:
            result = await self.append_events(
                AppendRequest(stream_id=stream, expected_version=request.expected_version, events=new_events)
            )
        except ApplicationError as error:
            if error.type != "ConcurrencyError":
                raise
            return await self._already_there(request, lines)  # a retry racing its own first attempt's commit
        state = fold(events)
        log.info("import file recorded", contract_id=stream, workflow_id=info.workflow_id, events=len(events))
        return ImportFileResult(version=result.version, recorded=len(events), state=state)

    async def _already_there(self, request: ImportFileRequest, lines: tuple[Any, ...]) -> ImportFileResult:
        """The stream moved past the version the workflow holds: this file's facts recorded by an earlier attempt
        (its answer lost) are folded and answered; anything else is another history, refused."""
        state: ContractState = fold(await self.store.load_events(request.stream_id))
        if state.version > 0 and all(line.command.request_id in state.request_ids for line in lines):
            return ImportFileResult(
                version=state.version, recorded=state.version - request.expected_version, state=state
            )
        message = f"contract_id: {request.stream_id} already has a history; an import takes over a contract Pacte does not hold yet"
        raise ApplicationError(
            message,
            {
                "code": "already_exists",
                "message": message,
                "field": "contract_id",
                "rule": "contract.has_history",
                "params": {},
            },
            type="already_exists",
            non_retryable=True,
        )

    @activity.defn(name=READ_EVENTS_AFTER)
    async def read_events_after(self, request: ReadAfterRequest) -> list[dict[str, Any]]:
        """The stream's events after a version, upcast to today's payloads, in version order: what a workflow folds
        when it does not know whether its append was recorded."""
        try:
            events = await self.store.load_events(request.stream_id, after_version=request.after_version)
        except TRANSIENT:
            raise
        except (ValueError, KeyError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            # A stored payload that is not a fact of a contract: written behind the workflow's back. No retry reads
            # it better.
            log.error(
                "store diverged from its workflow",
                contract_id=request.stream_id,
                workflow_id=activity.info().workflow_id,
                error=repr(exc)[:500],
            )
            raise ApplicationError(
                f"stream {request.stream_id} holds, after version {request.after_version}, a payload that is not a "
                "fact of a contract",
                type="store_diverged",
                non_retryable=True,
            ) from exc
        return [event.model_dump(mode="json") for event in events]

    @activity.defn(name=RECORD_REMINDER)
    async def record_reminder(self, request: ReminderRequest) -> bool:
        """Put a reminder in the outbox; the same reminder twice is one row (activities may be retried)."""
        created = await self.store.add_reminder(
            request.contract_id, request.deadline, request.year, request.due, request.remind_on
        )
        log.info(
            "reminder queued",
            contract_id=request.contract_id,
            workflow_id=activity.info().workflow_id,
            deadline=request.deadline,
            year=request.year,
            due=str(request.due),
            created=created,
        )
        return created

    @activity.defn(name=CONTRACT_STATUSES)
    async def contract_statuses(self, contract_ids: list[str]) -> list[ContractStatus]:
        """Statuses from the read model (a campaign's progress): a contract not projected yet is not listed."""
        rows = await self.store.pool.fetch(
            """SELECT contract_id, status, jsonb_array_length(state->'missed_deadlines') > 0 AS late
               FROM contract_summary WHERE contract_id = ANY($1::text[])""",
            contract_ids,
        )
        return [ContractStatus(contract_id=r["contract_id"], status=r["status"], late=r["late"]) for r in rows]
