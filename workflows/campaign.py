"""CampaignWorkflow: a préfet (or the national level) proposes contracts to a list of territories.

Each proposal is validated here first (the domain is pure), then started as a child ContractWorkflow that outlives
the campaign. Re-running a campaign is harmless: a contract that exists is counted, never proposed twice. Progress
(proposed, signed, in execution, late, closed) is polled from the read model and answered by a query.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.contracts import CONTRACT_STATUSES, ContractStatus
    from domain.commands import ProposeContract
    from domain.decider import decide
    from domain.errors import DomainError
    from domain.state import INITIAL_STATE
    from domain.territories import contract_id_for
    from workflows.contract import APPEND_RETRY, ContractWorkflow
    from workflows.models import CampaignInput, CampaignProgress, ContractWorkflowInput

from temporalio.common import WorkflowIDReusePolicy

SIGNING = {"DELIBERATED", "SIGNED"}
RUNNING = {"IN_EXECUTION", "SUSPENDED", "CLOSING"}


@workflow.defn
class CampaignWorkflow:
    @workflow.init
    def __init__(self, input: CampaignInput) -> None:
        self._progress = CampaignProgress()

    @workflow.query
    def progress(self) -> CampaignProgress:
        return self._progress

    @workflow.run
    async def run(self, input: CampaignInput) -> CampaignProgress:
        started: list[str] = []
        existing: list[str] = []
        refused: dict[str, str] = {}
        for territory in input.territories:
            try:
                command = ProposeContract(
                    contract_id=contract_id_for(territory),
                    actor=input.actor,
                    request_id=f"{input.request_prefix}:{territory}",
                    at=input.at,
                    territory_id=territory,
                    annual_ceiling=input.ceilings.get(territory, input.annual_ceiling),
                )
                decide(command, INITIAL_STATE, input.policy)
            except DomainError as error:
                refused[territory] = error.message
                continue
            except ValueError:  # pydantic's ValidationError: not even shaped like a territory id
                refused[territory] = f"territory: {territory!r} is not a territory id (a SIREN, or D + INSEE code)"
                continue
            try:
                await workflow.start_child_workflow(
                    ContractWorkflow.run,
                    ContractWorkflowInput(
                        contract_id=command.contract_id,
                        policy=input.policy,
                        clock_offset_s=input.clock_offset_s,
                        propose=command,
                    ),
                    id=command.contract_id,
                    parent_close_policy=ParentClosePolicy.ABANDON,  # a contract outlives its campaign
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                )
                started.append(command.contract_id)
            except WorkflowAlreadyStartedError:
                existing.append(command.contract_id)
        self._progress = CampaignProgress(started=started, existing=existing, refused=refused)
        ids = started + existing
        while ids:
            statuses = await workflow.execute_activity(
                CONTRACT_STATUSES,
                ids,
                result_type=list[ContractStatus],
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=APPEND_RETRY,
            )
            self._progress = self._count(statuses, len(ids))
            if self._progress.closed + self._progress.terminated == len(ids):
                break
            await workflow.sleep(timedelta(days=input.poll_days))
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(input)
        return self._progress

    def _count(self, statuses: list[ContractStatus], total: int) -> CampaignProgress:
        by = [s.status for s in statuses]
        return self._progress.model_copy(
            update={
                # A contract started but not in the read model yet is being proposed.
                "proposed": total - len(by) + sum(s in ("PROPOSED", "NEGOTIATING") for s in by),
                "signed": sum(s in SIGNING for s in by),
                "in_execution": sum(s in RUNNING for s in by),
                "late": sum(s.late and s.status not in ("CLOSED", "TERMINATED") for s in statuses),
                "closed": sum(s == "CLOSED" for s in by),
                "terminated": sum(s == "TERMINATED" for s in by),
                "as_of": workflow.now(),
            }
        )
