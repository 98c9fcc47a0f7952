"""Activities that write to the event store."""

from __future__ import annotations

import time
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import (
    APPEND_EVENTS,
    CONTRACT_STATUSES,
    READ_EVENTS_AFTER,
    RECORD_REMINDER,
    AppendRequest,
    ContractStatus,
    ReadAfterRequest,
    ReminderRequest,
)
from eventstore.records import AppendResult
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
            event_types=[e.event_type for e in request.events],
            version=result.version,
            already_appended=result.already_appended,
            attempt=info.attempt,
        )
        return result

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
