"""ContractWorkflow: one per contract (``cls-<siren>``), an entity workflow around the domain's decide/evolve.

- Every operator command is an update: its validator runs ``decide`` as a dry run (a refusal is written nowhere),
  its handler (one at a time, under a lock) appends the decided events through an activity, then folds them.
- Event ids and versions are computed here, deterministically: a retried activity re-sends identical events.
- Deadlines are timers from business time (``workflow.now()`` + the input's offset): a reminder goes to the outbox,
  a missed deadline becomes an event, year boundaries open the next programme year, then closing begins.
- The run continues as new at each year boundary and whenever Temporal suggests it, once every handler has finished,
  carrying the state (and so the stream version).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from datetime import datetime, timedelta
from typing import Any, Literal

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    import domain.policy
    from activities.contracts import (
        APPEND_EVENTS,
        IMPORT_FILE,
        READ_EVENTS_AFTER,
        RECORD_REMINDER,
        AppendRequest,
        AppendResult,
        ImportFileRequest,
        ImportFileResult,
        ReadAfterRequest,
        ReminderRequest,
    )
    from domain.business_time import business_date
    from domain.calendar import CalendarFact, milestone_due, missed_deadlines_due, next_wake, reminders_due
    from domain.commands import ChangeAction, Command
    from domain.deadlines import Deadline, pending_deadlines
    from domain.decider import decide
    from domain.errors import DomainError
    from domain.events import AvenantSigned, Event
    from domain.evolve import evolve
    from domain.policy import Policy
    from domain.reprise import LineRefused, import_history
    from domain.rules.negotiation import unchanged_action_as_recorded_before
    from domain.state import FINAL_STATUSES, INITIAL_STATE, ContractState, Status
    from domain.territories import TerritoryCatalogue
    from domain.upcasting import parse_event
    from eventstore.hashing import payload_digest
    from eventstore.records import new_event_from
    from workflows.models import (
        CommandRequest,
        CommandResult,
        ContractWorkflowInput,
        ImportFileUpdate,
        ImportRequest,
    )
    from workflows.telemetry import measured

APPEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    non_retryable_error_types=["ConcurrencyError", "StoreRefused"],
)
# One append's retries have a bounded total (ContractWorkflowInput.append_total_s, 60 s): past it, the command fails
# with a problem and the contract is usable at once (an update holds the workflow's lock while it waits).


# An append that timed out or met a conflict may have committed with its answer lost: the workflow, the stream's only
# writer, reads what the store holds after its version and folds the events whose request ids are its own. Before
# this patch it answered "nothing was recorded" and stayed at the old version (every later command then conflicted).
OUTCOME_PATCH = "append-outcome-v1"
# Reminders go to the outbox after the contract's lock is released, their retries bounded (they used to retry for ever
# holding it); a calendar fact or reminder the store failed is tried again on a short timer, not at the next deadline.
REMINDERS_PATCH = "reminders-bounded-v1"
CALENDAR_PATCH = "calendar-retry-v1"
CALENDAR_RETRY_FIRST = timedelta(seconds=10)
CALENDAR_RETRY_MAX = timedelta(minutes=10)
STORE_DID_NOT_ANSWER = ("store_unavailable", "outcome_unknown")
# The wake timer is kept while the next wake is unchanged (it used to be cancelled and started again at every update).
WAKE_TIMER_PATCH = "wake-timer-kept-v1"
SETTLE_AGAIN = timedelta(seconds=5)  # while an outcome is unknown, how soon the contract reads its stream again
READ_TOTAL = timedelta(seconds=15)  # a read back is bounded too: it runs under the contract's lock


SEARCH_ATTRIBUTES_PATCH = "search-attributes-v1"
# A ChangeAction that changes nothing records nothing (it recorded an identical ActionChanged before): a history
# recorded then replays with that fact, behind this patch (asked only when such a command comes).
UNCHANGED_ACTION_PATCH = "unchanged-action-records-nothing-v1"
# AvenantSigned gained its signatory (schema 2). A history recorded before holds schema 1 facts, which the store's
# digests compare exactly: replayed, the workflow decides them in that form.
AVENANT_SIGNATORY_PATCH = "avenant-signatory-v1"
STATUS = SearchAttributeKey.for_keyword("PacteStatus")
TERRITORY = SearchAttributeKey.for_keyword("PacteTerritory")
KIND = SearchAttributeKey.for_keyword("PacteKind")
REGION = SearchAttributeKey.for_keyword("PacteRegion")
YEAR = SearchAttributeKey.for_int("PacteYear")
SEARCH_ATTRIBUTES = (STATUS, TERRITORY, KIND, REGION, YEAR)

# How the patch of a rule change (domain.policy.RULE_CHANGES) is retired (README, "Rules that change over four
# years"): "deprecated" once no open run predates the change (every run takes it; workflow.deprecate_patch keeps the
# histories that hold its marker replaying), then "retired" once no history with its marker is still replayed.
PATCH_RETIREMENT: dict[str, Literal["deprecated", "retired"]] = {}


def update_answer(state: ContractState, events: list[Event]) -> CommandResult:
    """What an update answers (and Temporal keeps in the history): the new version and the events recorded, never
    the whole state (whoever needs it queries it)."""
    return CommandResult(version=state.version, events=[e.model_dump(mode="json") for e in events])


def refusal(error: DomainError) -> ApplicationError:
    details = error.details() | ({"line": error.line} if isinstance(error, LineRefused) else {})
    return ApplicationError(error.message, details, type=error.code, non_retryable=True)


@workflow.defn
class ContractWorkflow:
    @workflow.init
    def __init__(self, input: ContractWorkflowInput) -> None:
        self._contract_id = input.contract_id
        self._state: ContractState = input.state or INITIAL_STATE
        self._policy = input.policy
        self._offset = timedelta(seconds=input.clock_offset_s)
        self._reminded: set[str] = set(input.reminded)
        self._search_attributes = input.search_attributes
        self._published: tuple[object, ...] | None = None
        self._append_total = timedelta(seconds=input.append_total_s)
        self._lock = asyncio.Lock()
        self._run_year = self._state.current_year
        self._catalogue = TerritoryCatalogue(input.territories)
        self._changes_taken: dict[str, bool] = {}  # rule change id -> whether this run takes it (workflow.patched)
        self._import_pending: ImportFileUpdate | None = None  # an import file whose outcome is not known yet
        self._unsettled: set[str] = set(input.unsettled)
        self._calendar_failures = 0  # calendar work the store failed, in a row: the retry timer doubles with it
        self._foreign: str | None = None  # an event after our version that is not ours: an alarm, nothing folded

    # --- the run: timers and year boundaries ---------------------------------------------------------------------

    @workflow.run
    async def run(self, input: ContractWorkflowInput) -> ContractState:
        if input.propose is not None and self._state.status is Status.NONE:
            async with measured(self._lock, "propose"):
                try:
                    await self._apply(input.propose)
                except ApplicationError as error:  # the campaign validated it first; if not, there is no contract
                    if not self._unsettled:
                        workflow.logger.warning(
                            "proposal refused", extra={"contract_id": self._contract_id, "reason": str(error)}
                        )
                        return self._state
            # Its outcome is unknown (the store did not answer): settle it before anything else, so a proposal
            # the store holds is never left without its workflow (a campaign's child ending in status NONE).
            while self._unsettled:
                await workflow.sleep(SETTLE_AGAIN)
                async with measured(self._lock, "settle"):
                    await self._reconcile()
            if self._state.status is Status.NONE:
                return self._state
        timer: asyncio.Task[None] | None = None  # the wake timer, kept across updates that leave the wake alone
        armed_for: datetime | None = None
        while self._state.status not in FINAL_STATUSES and not self._should_continue_as_new():
            await self._do_what_is_due()
            if self._state.status in FINAL_STATUSES or self._should_continue_as_new():
                break
            wake = self._next_wake()
            seen = self._state.version
            timeout = None if wake is None else max(wake - self._now(), timedelta(seconds=1))
            retry = self._calendar_retry()
            if self._unsettled:  # an outcome still unknown: read the stream again soon, not at the next deadline
                timeout = SETTLE_AGAIN if timeout is None else min(timeout, SETTLE_AGAIN)
            if retry is not None:
                timeout = retry if timeout is None else min(timeout, retry)
            if workflow.patched(WAKE_TIMER_PATCH):
                # Re-armed only when the next wake changes: an update that leaves the calendar alone cancels no
                # timer (a short retry is armed afresh each time).
                key = wake if not self._unsettled and retry is None else None
                if timer is not None and (timer.done() or key is None or key != armed_for):
                    timer.cancel()
                    timer = None
                if timer is None and timeout is not None:
                    timer, armed_for = asyncio.ensure_future(workflow.sleep(timeout)), key
                # Also woken when an update leaves an outcome unknown: the short timer must be armed then.
                unsure = bool(self._unsettled)
                await workflow.wait_condition(
                    lambda seen=seen, t=timer, unsure=unsure: (  # type: ignore[misc]
                        self._state.version != seen
                        or self._should_continue_as_new()
                        or (t is not None and t.done())
                        or bool(self._unsettled) != unsure
                    )
                )
                continue
            with contextlib.suppress(TimeoutError):  # a timeout is simply the next deadline's turn
                await workflow.wait_condition(
                    lambda seen=seen: self._state.version != seen or self._should_continue_as_new(),  # type: ignore[misc]
                    timeout=timeout,
                )
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._state.status in FINAL_STATUSES:
            return self._state
        workflow.continue_as_new(
            ContractWorkflowInput(
                contract_id=self._contract_id,
                state=self._state,
                policy=self._policy,
                clock_offset_s=self._offset.total_seconds(),
                reminded=tuple(sorted(self._reminded)),
                append_total_s=self._append_total.total_seconds(),
                search_attributes=self._search_attributes,
                unsettled=tuple(sorted(self._unsettled)),
            )
        )

    def _publish(self) -> None:
        """The contract's status, territory, kind, région and programme year as search attributes, so Temporal's Web
        UI lists and filters contracts by them; upserted when they change. (Behind a patch: runs recorded before it
        replay without these commands.)"""
        if not self._search_attributes or self._state.status is Status.NONE:
            return
        state = self._state
        values = (
            state.status.value,
            state.territory_id,
            state.kind.value if state.kind else "",
            state.region,
            state.current_year,
        )
        if values == self._published or not workflow.patched(SEARCH_ATTRIBUTES_PATCH):
            return
        self._published = values
        year = YEAR.value_set(state.current_year) if state.current_year is not None else YEAR.value_unset()
        workflow.upsert_search_attributes(
            [
                STATUS.value_set(state.status.value),
                TERRITORY.value_set(state.territory_id),
                KIND.value_set(values[2]),  # type: ignore[arg-type]
                REGION.value_set(state.region),
                year,
            ]
        )

    def _now(self) -> datetime:
        return workflow.now() + self._offset

    def _should_continue_as_new(self) -> bool:
        new_year = self._run_year is not None and self._state.current_year != self._run_year
        return new_year or workflow.info().is_continue_as_new_suggested()

    def _next_wake(self) -> datetime | None:
        now = self._now()
        return next_wake(self._state, self._rules_on(now), now, tuple(self._reminded))

    async def _do_what_is_due(self) -> None:
        later: list[Deadline] = []  # reminders sent once the lock is released
        failed = False
        async with measured(self._lock, "calendar"):
            if self._unsettled and await self._reconcile() is None:
                return  # the store cannot be read yet: nothing else is decided on a state that may be behind
            now = self._now()
            policy = self._rules_on(now)
            # In the calendar's order: the misses due by the year boundary first (opening the next year changes which
            # obligations are pending), then the boundary; later misses after it, in the next run (after continuing
            # as new). A workflow that wakes long after its dates (a contract typed late, a worker down) thus records
            # the same facts at the same dates as one that woke on time, and as an import does.
            boundary = milestone_due(self._state, policy, now)
            for fact in missed_deadlines_due(self._state, policy, now):
                if boundary is None or fact.at <= boundary.at:
                    failed = not await self._system(fact) or failed
            due = reminders_due(self._state, policy, now, tuple(self._reminded))
            if due and workflow.patched(REMINDERS_PATCH):
                later = due
            else:
                for deadline in due:
                    await self._remind(deadline)
            milestone = milestone_due(self._state, policy, now)
            # A boundary is not crossed over a miss that could not be recorded (the store did not answer): both are
            # tried again shortly, in the calendar's order.
            if milestone is not None and not (failed and self._retrying_calendar()):
                failed = not await self._system(milestone) or failed
        for deadline in later:
            failed = not await self._remind_bounded(deadline) or failed
        if not failed:
            self._calendar_failures = 0
        elif self._retrying_calendar():
            self._calendar_failures += 1

    def _retrying_calendar(self) -> bool:
        """Whether a calendar fact the store failed is tried again on a short timer (see CALENDAR_PATCH)."""
        return workflow.patched(CALENDAR_PATCH)

    def _calendar_retry(self) -> timedelta | None:
        """After failures, the next try: 10 s, then doubling up to 10 minutes (an outage of hours costs each contract a
        few tries an hour, not one a second)."""
        if not self._calendar_failures:
            return None
        return min(CALENDAR_RETRY_FIRST * 2 ** (self._calendar_failures - 1), CALENDAR_RETRY_MAX)

    async def _system(self, fact: CalendarFact) -> bool:
        """A calendar fact, stamped with the moment it is about (see domain/calendar.py), not when the timer ran.
        False when the store did not answer (the fact is due still); a refusal by the rules is final."""
        try:
            await self._apply(fact.command(self._contract_id))
        except ApplicationError as error:  # the rules said no (e.g. an operator got there first): note it, go on
            workflow.logger.warning(
                "system command refused",
                extra={"contract_id": self._contract_id, "command": fact.command_type, "reason": str(error)},
            )
            return error.type not in STORE_DID_NOT_ANSWER
        return True

    def _reminder(self, deadline: Deadline) -> ReminderRequest:
        """What the outbox records of a deadline (both ways of sending it, bounded or not, send the same)."""
        return ReminderRequest(
            contract_id=self._contract_id,
            deadline=deadline.kind.value,
            year=deadline.year,
            due=deadline.due,
            remind_on=deadline.reminder,
        )

    async def _remind(self, deadline: Deadline) -> None:
        await workflow.execute_activity(
            RECORD_REMINDER,
            self._reminder(deadline),
            result_type=bool,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=APPEND_RETRY,
        )
        self._reminded.add(deadline.key)

    async def _remind_bounded(self, deadline: Deadline) -> bool:
        """The reminder into the outbox, its retries bounded like an append's and outside the contract's lock: during
        an outage the commands keep their bounded answers. False if it failed: tried again on a short timer."""
        try:
            await workflow.execute_activity(
                RECORD_REMINDER,
                self._reminder(deadline),
                result_type=bool,
                start_to_close_timeout=timedelta(seconds=30),
                schedule_to_close_timeout=self._append_total,
                retry_policy=APPEND_RETRY,
            )
        except ActivityError:
            workflow.logger.warning(
                "reminder not queued", extra={"contract_id": self._contract_id, "deadline": deadline.key}
            )
            return False
        self._reminded.add(deadline.key)
        return True

    # --- operators: updates and queries ----------------------------------------------------------------------------

    @workflow.query
    def state(self) -> ContractState:
        return self._state

    @workflow.query
    def pending_deadlines(self) -> list[Deadline]:
        return pending_deadlines(self._state, self._rules_on(self._now(), ask=False))

    @workflow.query
    def business_now(self) -> datetime:
        return self._now()

    @workflow.query
    def refusal_of(self, request: CommandRequest) -> dict[str, Any] | None:
        """The refusal the command would meet now (its details), or None: the update's validator's dry run, asked
        before a person confirms an irreversible act. A query records nothing, in the store or in the history."""
        try:
            command = self._entered(request.command)
            decide(command, self._state, self._rules_on(command.at, ask=False), self._catalogue)
        except DomainError as error:
            return error.details()
        return None

    @workflow.query
    def request_outcome(self, request_id: str) -> str:
        """``recorded``, ``unknown`` (its append's answer was lost and the store cannot be read yet) or
        ``not_recorded``: what a caller told "outcome unknown" asks again."""
        if request_id in self._state.request_ids:
            return "recorded"
        return "unknown" if request_id in self._unsettled else "not_recorded"

    @workflow.update
    async def execute(self, request: CommandRequest) -> CommandResult:
        async with measured(self._lock, "execute"):
            # Decide again under the lock: another update may have changed the state since validation.
            return await self._apply(request.command)

    @execute.validator
    def validate_execute(self, request: CommandRequest) -> None:
        # A dry run: a refusal here is recorded nowhere (no event, not even in Temporal's history).
        if request.command.contract_id != self._contract_id:
            raise ApplicationError(
                f"contract_id: this is {self._contract_id}, not {request.command.contract_id}",
                {"code": "invalid_value", "message": "wrong contract", "field": "contract_id"},
                type="invalid_value",
            )
        if self._unsettled:
            return  # the state may be behind the store: the handler reads it back first, then decides
        try:
            command = self._entered(request.command)
            decide(command, self._state, self._rules_on(command.at, ask=False), self._catalogue)
        except DomainError as error:
            raise refusal(error) from None

    @workflow.update
    async def import_history(self, request: ImportRequest) -> CommandResult:
        """A contract's history taken over from a file: every fact decided in order with the calendar's facts
        interleaved, then recorded in one append (all or nothing)."""
        async with measured(self._lock, "import"):
            await self._settle_first()
            try:
                events = self._decide_import(request)
            except DomainError as error:
                raise refusal(error) from None
            return await self._record(events)

    @workflow.update
    async def import_file(self, request: ImportFileUpdate) -> CommandResult:
        """A contract's history taken over from a file kept in the store under its hash: one activity decides it
        (the calendar's facts interleaved, the rules this run takes) and appends it in one transaction; the
        workflow folds what it answers. The lines never pass through Temporal (issue 27, item 7)."""
        async with measured(self._lock, "import_file"):
            pending = self._import_pending
            if pending is not None and pending.digest == request.digest:  # the same file again: settle it now
                recorded = await self._import(pending)
                return CommandResult(version=self._state.version, events=[], recorded=recorded)
            await self._settle_first()
            if self._state.status is not Status.NONE:
                raise refusal(self._has_history())
            recorded = await self._import(request)
            return CommandResult(version=self._state.version, events=[], recorded=recorded)

    async def _import(self, request: ImportFileUpdate) -> int:
        """Run the import activity and fold its answer; if its outcome cannot be known, keep the file pending: the
        next update (the same file again, or any command) runs it again first — the activity finds the facts an
        earlier attempt recorded, or records them then."""
        now = self._now()
        try:
            imported = await workflow.execute_activity(
                IMPORT_FILE,
                ImportFileRequest(
                    stream_id=self._contract_id,
                    digest=request.digest,
                    expected_version=self._state.version,
                    now=now,
                    policy=self._rules_on(now),
                ),
                result_type=ImportFileResult,
                # Twice an append's bound: the activity also reads the file and decides up to 1 500 facts.
                start_to_close_timeout=timedelta(seconds=60),
                schedule_to_close_timeout=self._append_total * 2,
                retry_policy=APPEND_RETRY,
            )
        except ActivityError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.non_retryable and cause.type != "StoreRefused":
                self._import_pending = None
                # The file's refusal (line, field, rule), as the activity decided it: nothing was recorded.
                raise ApplicationError(cause.message, *cause.details, type=cause.type, non_retryable=True) from None
            self._import_pending = request
            message = "the event store did not answer in time; the import's outcome is not known yet, send it again"
            workflow.logger.warning("import outcome unknown", extra={"contract_id": self._contract_id})
            raise ApplicationError(
                message,
                {"code": "outcome_unknown", "message": message, "field": None},
                type="outcome_unknown",
                non_retryable=True,
            ) from None
        self._import_pending = None
        self._state = imported.state
        self._publish()
        if self._run_year is None:
            self._run_year = self._state.current_year
        workflow.logger.info("import recorded", extra={"contract_id": self._contract_id, "events": imported.recorded})
        return imported.recorded

    @import_file.validator
    def validate_import_file(self, request: ImportFileUpdate) -> None:
        if not self._unsettled and self._state.status is not Status.NONE:
            raise refusal(self._has_history())

    def _has_history(self) -> DomainError:
        return DomainError(
            f"contract_id: {self._contract_id} already has a history; an import takes over a contract Pacte does "
            "not hold yet",
            field="contract_id",
            code="already_exists",
            rule="contract.has_history",
        )

    @import_history.validator
    def validate_import(self, request: ImportRequest) -> None:
        if self._unsettled:
            return  # decided in the handler, once the state has caught up with the store
        try:
            self._decide_import(request, ask=False)
        except DomainError as error:
            raise refusal(error) from None

    def _decide_import(self, request: ImportRequest, *, ask: bool = True) -> list[Event]:
        if self._state.status is not Status.NONE:
            if all(line.command.request_id in self._state.request_ids for line in request.lines):
                return []  # the same file again: nothing new
            raise DomainError(
                f"contract_id: {self._contract_id} already has a history; an import takes over a contract Pacte does "
                "not hold yet",
                field="contract_id",
                code="already_exists",
                rule="contract.has_history",
            )
        now = self._now()
        # An unchanged ChangeAction line recorded its ActionChanged before UNCHANGED_ACTION_PATCH (asked only when
        # the file has a ChangeAction line, and never by the validator, which cannot record a marker).
        legacy = False
        if ask and any(isinstance(line.command, ChangeAction) for line in request.lines):
            legacy = not workflow.patched(UNCHANGED_ACTION_PATCH)
        events, _ = import_history(
            request.lines, self._state, self._rules_on(now, ask=ask), now, unchanged_action_recorded=legacy
        )
        return events

    def _entered(self, command: Command) -> Command:
        """The moment the command reaches the contract, by the workflow's clock: a fact dated later is in the future."""
        return command.model_copy(update={"entered_at": self._now()})

    def _rules_on(self, moment: datetime, *, ask: bool = True) -> Policy:
        """The input's policy with the code's rule changes (domain.policy.RULE_CHANGES) in force on ``moment``'s date
        that this run takes. A change reaches a running contract behind ``workflow.patched(change.id)``: a history
        recorded before it replays as it was decided, and the first decision under it records the marker. Only a
        change in force on the fact's date is asked about, so deciding facts dated before it never depends on the
        patch; a run that replayed a decision made without it keeps deciding without it (the patch is memoised for
        the run) until the next run, at the year's continue-as-new. Validators and queries cannot record a marker
        (``ask=False``): they use this run's answers so far, and a live run takes a change it was not asked about."""
        day = business_date(moment)
        taken = []
        for change in domain.policy.RULE_CHANGES:  # read at call time: a test adds one
            if change.in_force_from > day:
                continue
            retirement = PATCH_RETIREMENT.get(change.id)
            if retirement is not None:
                if retirement == "deprecated" and ask:
                    workflow.deprecate_patch(change.id)
                taken.append(change)
                continue
            if ask and change.id not in self._changes_taken:
                self._changes_taken[change.id] = workflow.patched(change.id)
            if self._changes_taken.get(change.id, True):
                taken.append(change)
        return self._policy.with_changes(tuple(taken)) if taken else self._policy

    async def _apply(self, command: Command) -> CommandResult:
        await self._settle_first()
        try:
            entered = self._entered(command)
            events = decide(entered, self._state, self._rules_on(entered.at), self._catalogue)
            if not events and isinstance(entered, ChangeAction):
                before = unchanged_action_as_recorded_before(entered, self._state)
                if before and not workflow.patched(UNCHANGED_ACTION_PATCH):
                    events = before
        except DomainError as error:
            raise refusal(error) from None
        return await self._record(events)

    async def _record(self, events: list[Event]) -> CommandResult:
        if not events:
            return update_answer(self._state, [])
        if any(isinstance(e, AvenantSigned) for e in events) and not workflow.patched(AVENANT_SIGNATORY_PATCH):
            events = [e.model_copy(update={"schema_version": 1}) if isinstance(e, AvenantSigned) else e for e in events]
        info = workflow.info()
        stream = self._contract_id
        new_events = [
            new_event_from(stream, self._state.version + i, event, workflow_id=info.workflow_id, run_id=info.run_id)
            for i, event in enumerate(events, 1)
        ]
        try:
            appended = await workflow.execute_activity(
                APPEND_EVENTS,
                AppendRequest(stream_id=stream, expected_version=self._state.version, events=new_events),
                result_type=AppendResult,
                start_to_close_timeout=timedelta(seconds=30),
                schedule_to_close_timeout=self._append_total,
                retry_policy=APPEND_RETRY,
            )
        except ActivityError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.type == "store_diverged":
                # The stream is behind this workflow's version: no retry mends that, and nothing is decided again
                # until someone looks (never "retry later").
                raise self._diverged(f"the stream ends before version {self._state.version}") from None
            refused = isinstance(cause, ApplicationError) and cause.type == "StoreRefused"
            if not refused and workflow.patched(OUTCOME_PATCH):
                # A timeout (every attempt's answer lost, or the store down) or a version conflict: the append may
                # have committed. The store, not this failure, says what happened.
                return await self._settle(events)
            # Nothing was folded: the state is as before, the lock is released, the next command may succeed.
            code = "store_refused" if refused else "store_unavailable"
            message = (
                "the event store refused to record this (a value it cannot hold); nothing was recorded"
                if refused
                else "the event store did not answer in time; nothing was recorded, retry later"
            )
            workflow.logger.warning("append failed", extra={"contract_id": stream, "code": code})
            raise ApplicationError(
                message, {"code": code, "message": message, "field": None}, type=code, non_retryable=True
            ) from None
        # Fold what was stored: the events decided must be the events the store holds at those versions. On replay
        # the store's answer comes from the history, so a changed rule that decides differently fails here, loudly,
        # instead of leaving the live state apart from the record. (Histories recorded before the store answered its
        # digests carry none: nothing to compare.)
        decided = [
            payload_digest(e.event_type, e_version, e.payload)
            for e_version, e in enumerate(new_events, self._state.version + 1)
        ]
        if appended.stored and appended.stored != decided:
            pairs = enumerate(zip(appended.stored, decided, strict=False))
            first = next((i for i, (a, b) in pairs if a != b), min(len(appended.stored), len(decided)))
            raise RuntimeError(
                f"non-determinism: {stream} version {self._state.version + 1 + first}: the events decided now differ "
                "from the events stored; a rule changed without workflow.patched, or the record was altered"
            )
        self._fold(events)
        return self._result(events)

    def _fold(self, events: list[Event]) -> None:
        info = workflow.info()
        for event in events:
            self._state = evolve(self._state, event)
        self._publish()
        if self._run_year is None:  # the year this run executes: a later year means continuing as new
            self._run_year = self._state.current_year
        for event in events:
            workflow.logger.info(
                "event recorded",
                extra={
                    "contract_id": self._contract_id,
                    "workflow_id": info.workflow_id,
                    "event_type": event.type,
                    "actor": event.actor.identity,
                },
            )

    def _result(self, events: list[Event]) -> CommandResult:
        return update_answer(self._state, events)

    # --- an append whose outcome is unknown ------------------------------------------------------------------------

    async def _settle(self, events: list[Event]) -> CommandResult:
        """After a failed append: fold what the store holds of it, or say truthfully that nobody knows yet."""
        mine = {event.request_id for event in events}
        self._unsettled |= mine
        folded = await self._reconcile()
        if folded is None:
            raise self._unknown(this_command=True)
        recorded = [event for event in folded if event.request_id in mine]
        if recorded:
            workflow.logger.warning(
                "append answer lost, events read back", extra={"contract_id": self._contract_id, "n": len(recorded)}
            )
            return self._result(recorded)
        message = "the event store did not answer in time; nothing was recorded, retry later"
        workflow.logger.warning("append failed", extra={"contract_id": self._contract_id, "code": "store_unavailable"})
        raise ApplicationError(
            message,
            {"code": "store_unavailable", "message": message, "field": None},
            type="store_unavailable",
            non_retryable=True,
        )

    async def _settle_first(self) -> None:
        """Nothing is decided on a state that may be behind the store: an unknown outcome is settled first."""
        if self._import_pending is not None:
            await self._import(self._import_pending)
        if self._unsettled and await self._reconcile() is None:
            raise self._unknown(this_command=False)

    async def _reconcile(self) -> list[Event] | None:
        """Read the stream after our version and fold the events whose request ids are ours (the unsettled appends):
        the events folded, or None while the store cannot be read (or holds events that are not ours)."""
        if not self._unsettled:
            return []
        try:
            payloads = await workflow.execute_activity(
                READ_EVENTS_AFTER,
                ReadAfterRequest(stream_id=self._contract_id, after_version=self._state.version),
                result_type=list[dict[str, Any]],
                start_to_close_timeout=timedelta(seconds=10),
                schedule_to_close_timeout=min(READ_TOTAL, self._append_total),
                retry_policy=APPEND_RETRY,
            )
        except ActivityError as error:
            if isinstance(error.cause, ApplicationError) and error.cause.type == "store_diverged":
                self._foreign = f"after version {self._state.version}, a payload that is not a fact of a contract"
                return None
            workflow.logger.warning(
                "outcome unknown: the store cannot be read", extra={"contract_id": self._contract_id}
            )
            return None
        stored = [parse_event(payload) for payload in payloads]
        ours = list(itertools.takewhile(lambda e: e.request_id in self._unsettled, stored))
        if len(ours) < len(stored):
            # This workflow is its stream's only writer: an event that is not ours is an alarm (the record altered,
            # or a second writer). Nothing is folded, nothing more is decided until someone looks.
            other = stored[len(ours)]
            self._foreign = (
                f"version {self._state.version + len(ours) + 1} holds {other.type}, not written by this contract"
            )
            workflow.logger.error(
                "foreign event in the stream", extra={"contract_id": self._contract_id, "at": self._foreign}
            )
            return None
        self._unsettled.clear()  # every unsettled append is now known: recorded (folded here) or not at all
        self._fold(ours)
        return ours

    def _diverged(self, what: str) -> ApplicationError:
        """The stream no longer matches this workflow (events written behind its back, or the store behind it)."""
        stream = self._contract_id
        message = (
            f"the event store no longer matches contract {stream} ({what}); nothing more is recorded until the "
            "operators examine it"
        )
        workflow.logger.error(
            "store diverged from its workflow",
            extra={"contract_id": stream, "workflow_id": workflow.info().workflow_id, "what": what},
        )
        error = DomainError(
            message, field="contract_id", code="store_diverged", rule="store.diverged", params={"contract_id": stream}
        )
        return refusal(error)

    def _unknown(self, *, this_command: bool) -> ApplicationError:
        if self._foreign is not None:
            return self._diverged(f"{self._foreign}")
        if this_command:
            code = "outcome_unknown"
            message = (
                "the event store did not confirm and cannot be read: this command may or may not be recorded; the "
                "contract settles it by itself once the store answers — send the same request again to know"
            )
        else:
            code = "store_unavailable"
            message = (
                "an earlier command's outcome is not known yet (the event store cannot be read); nothing was "
                "recorded, retry later"
            )
        workflow.logger.warning("append outcome unknown", extra={"contract_id": self._contract_id, "code": code})
        return ApplicationError(
            message, {"code": code, "message": message, "field": None}, type=code, non_retryable=True
        )
