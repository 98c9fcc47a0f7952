"""The service's scheduled operations, each started by a Temporal Schedule (pacte/service/schedules.py):

- ``StoreVerifyWorkflow``, nightly: the whole event store verified against the last signed anchor, then a new signed
  anchor written (none when the store does not verify: the run fails, naming the first bad event).
- ``ReminderRelayWorkflow``, every few minutes: the reminders due and not yet sent, relayed from the outbox.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.contracts import RELAY_REMINDERS, VERIFY_AND_ANCHOR, RelayRequest, RelayResult, VerifyResult
    from domain.business_time import business_date

OPERATION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=5,
    non_retryable_error_types=["StoreTampered"],
)


@workflow.defn
class StoreVerifyWorkflow:
    @workflow.run
    async def run(self) -> VerifyResult:
        return await workflow.execute_activity(
            VERIFY_AND_ANCHOR,
            result_type=VerifyResult,
            start_to_close_timeout=timedelta(hours=2),  # a full walk of the store: minutes for millions of events
            retry_policy=OPERATION_RETRY,
        )


@workflow.defn
class ReminderRelayWorkflow:
    @workflow.run
    async def run(self) -> int:
        today = business_date(workflow.now())
        relayed = 0
        while True:  # in batches, until what is due is relayed
            batch = await workflow.execute_activity(
                RELAY_REMINDERS,
                RelayRequest(today=today),
                result_type=RelayResult,
                start_to_close_timeout=timedelta(minutes=5),
                retry_policy=OPERATION_RETRY,
            )
            relayed += batch.relayed
            if batch.relayed < RelayRequest(today=today).limit:
                return relayed
