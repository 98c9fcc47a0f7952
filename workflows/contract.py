"""ContractWorkflow: one per contract (``cls-<siren>``), an entity workflow around the domain's decide/evolve.

Every command goes through ``decide``; the decided events are appended to the event store by an activity, with ids
and versions computed here, deterministically, so a retried activity re-sends identical events.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import APPEND_EVENTS, AppendRequest, AppendResult
    from domain.commands import Command
    from domain.decider import decide
    from domain.errors import DomainError
    from domain.evolve import evolve
    from domain.state import INITIAL_STATE, ContractState, Status
    from eventstore.records import new_event_from
    from workflows.models import CommandRequest, CommandResult, ContractWorkflowInput

APPEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    non_retryable_error_types=["ConcurrencyError"],
)
FINAL = (Status.CLOSED, Status.TERMINATED)


def refusal(error: DomainError) -> ApplicationError:
    return ApplicationError(error.message, error.to_dict(), type=error.code, non_retryable=True)


@workflow.defn
class ContractWorkflow:
    @workflow.init
    def __init__(self, input: ContractWorkflowInput) -> None:
        self._state: ContractState = input.state or INITIAL_STATE
        self._policy = input.policy
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, input: ContractWorkflowInput) -> ContractState:
        await workflow.wait_condition(lambda: self._state.status in FINAL)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    @workflow.query
    def state(self) -> ContractState:
        return self._state

    @workflow.update
    async def execute(self, request: CommandRequest) -> CommandResult:
        async with self._lock:
            # Decide again under the lock: another update may have changed the state since validation.
            return await self._apply(request.command)

    @execute.validator
    def validate_execute(self, request: CommandRequest) -> None:
        # A dry run: a refusal here is recorded nowhere (no event, not even in Temporal's history).
        try:
            decide(request.command, self._state, self._policy)
        except DomainError as error:
            raise refusal(error) from None

    async def _apply(self, command: Command) -> CommandResult:
        try:
            events = decide(command, self._state, self._policy)
        except DomainError as error:
            raise refusal(error) from None
        if not events:
            return CommandResult(version=self._state.version, events=[], state=self._state)
        info = workflow.info()
        stream = self._state.contract_id or command.contract_id
        new_events = [
            new_event_from(stream, self._state.version + i, event, workflow_id=info.workflow_id, run_id=info.run_id)
            for i, event in enumerate(events, 1)
        ]
        await workflow.execute_activity(
            APPEND_EVENTS,
            AppendRequest(stream_id=stream, expected_version=self._state.version, events=new_events),
            result_type=AppendResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=APPEND_RETRY,
        )
        for event in events:
            self._state = evolve(self._state, event)
            workflow.logger.info(
                "event recorded",
                extra={"contract_id": stream, "event_type": event.type, "actor": event.actor.identity},
            )
        return CommandResult(
            version=self._state.version, events=[e.model_dump(mode="json") for e in events], state=self._state
        )
