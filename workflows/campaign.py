"""CampaignWorkflow: a préfet (or the national level) proposes contracts to a list of territories.

Each proposal is validated here first (the domain is pure), then started as a child ContractWorkflow that outlives
the campaign. Re-running a campaign is harmless: a contract that exists is counted, never proposed twice. The
campaign ends once every territory has its final answer — created (its contract is in the record), existing, or
refused (by the validation, or by the rules when its contract started: the child ended without a contract); the
contracts' later progress is read from the read model by whoever asks.
"""

from __future__ import annotations

import contextlib
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
        children: dict[str, workflow.ChildWorkflowHandle] = {}  # type: ignore[type-arg]
        territory_of: dict[str, str] = {}
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
                children[command.contract_id] = await workflow.start_child_workflow(
                    ContractWorkflow.run,
                    ContractWorkflowInput(
                        contract_id=command.contract_id,
                        policy=input.policy,
                        clock_offset_s=input.clock_offset_s,
                        propose=command,
                        search_attributes=input.search_attributes,
                    ),
                    id=command.contract_id,
                    parent_close_policy=ParentClosePolicy.ABANDON,  # a contract outlives its campaign
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                )
                started.append(command.contract_id)
                territory_of[command.contract_id] = territory
            except WorkflowAlreadyStartedError:
                existing.append(command.contract_id)
        self._progress = CampaignProgress(
            campaign_id=input.campaign_id,
            territories=list(input.territories),
            started=started,
            existing=existing,
            refused=refused,
        )
        ids = started + existing
        while True:
            statuses = await workflow.execute_activity(
                CONTRACT_STATUSES,
                ids,
                result_type=list[ContractStatus],
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=APPEND_RETRY,
            )
            recorded = {s.contract_id for s in statuses}
            for contract_id, handle in children.items():
                # A child that ended without its contract in the record: its proposal was refused when it started.
                if handle.done() and contract_id not in recorded and contract_id in started:
                    territory = territory_of[contract_id]
                    refused[territory] = "the proposal was refused by the rules when its contract started"
                    started.remove(contract_id)
            ids = started + existing
            complete = all(c in recorded for c in ids)
            self._progress = self._count(statuses, len(ids)).model_copy(
                update={"started": list(started), "refused": dict(refused), "complete": complete}
            )
            if complete:
                return self._progress
            # Answers come within seconds of the start: a short poll, cut short if every child has ended.
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: all(h.done() for h in children.values()), timeout=timedelta(seconds=input.poll_seconds)
                )

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
