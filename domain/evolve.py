"""evolve(state, event) -> state: folds facts; total, never raises. Rules belong in decide, not here."""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce
from typing import Any

from domain.events import (
    ActionAdded,
    ActionChanged,
    ActionRemoved,
    AnnualProgrammeSet,
    AvenantConcluded,
    AvenantProposed,
    AvenantSigned,
    ClosingBegun,
    CommitteeReviewRecorded,
    ContractClosed,
    ContractProposed,
    ContractResumed,
    ContractSigned,
    ContractSuspended,
    ContractTerminated,
    DeadlineMissed,
    DeliberationRecorded,
    Event,
    ExecutionReportSubmitted,
    MidTermEvaluationRecorded,
    PartySigned,
    ProgrammeYearOpened,
    RefactionApplied,
)
from domain.money_rules import apply_amounts
from domain.state import INITIAL_STATE, ContractState, MissedDeadline, Status, YearRecord
from domain.values import Avenant, AvenantKind, Signature


def _year(state: ContractState, year: int, **changes: Any) -> dict[int, YearRecord]:
    return {**state.years, year: state.year(year).model_copy(update=changes)}


def evolve(state: ContractState, event: Event) -> ContractState:
    changes: dict[str, Any] = {
        "version": state.version + 1,
        "request_ids": state.request_ids.add(event.request_id),
        "last_at": event.occurred_at,
    }
    match event:
        case ContractProposed():
            changes.update(
                contract_id=event.contract_id,
                status=Status.PROPOSED,
                territory_id=event.territory_id,
                territory_name=event.territory_name,
                kind=event.kind,
                region=event.region,
                departements=event.departements,
                annual_ceiling=event.annual_ceiling,
            )
        case ActionAdded() | ActionChanged():
            # The proposal's own draft actions (same request) leave it PROPOSED; any later change is negotiation.
            part_of_proposal = state.status is Status.PROPOSED and event.request_id in state.request_ids
            changes.update(
                actions={**state.actions, event.action.action_id: event.action},
                status=state.status if part_of_proposal else Status.NEGOTIATING,
            )
        case ActionRemoved():
            changes.update(
                actions={k: v for k, v in state.actions.items() if k != event.action_id},
                status=Status.NEGOTIATING,
            )
        case DeliberationRecorded():
            changes.update(deliberation=event.deliberation, status=Status.DELIBERATED)
        case PartySigned():
            signature = Signature(party=event.party, signatory=event.signatory, signed_at=event.occurred_at)
            changes.update(signatures={**state.signatures, event.party: signature})
        case ContractSigned():
            changes.update(status=Status.SIGNED, in_force_from=event.in_force_from)
        case ProgrammeYearOpened():
            status = Status.IN_EXECUTION if state.status is Status.SIGNED else state.status
            changes.update(status=status, current_year=event.year, years=_year(state, event.year, opened=True))
        case AnnualProgrammeSet():
            changes.update(actions=apply_amounts(state.actions, event.year, event.amounts))
        case CommitteeReviewRecorded():
            year = event.review.year
            changes.update(years=_year(state, year, reviews=(*state.year(year).reviews, event.review)))
        case AvenantProposed():
            avenant = Avenant(
                avenant_id=event.avenant_id,
                kind=event.kind,
                year=event.year,
                amounts=event.amounts,
                reason=event.reason,
            )
            changes.update(avenants={**state.avenants, event.avenant_id: avenant})
        case AvenantSigned():
            avenant = state.avenants[event.avenant_id]
            signed = avenant.model_copy(update={"signatures": (*avenant.signatures, event.party)})
            changes.update(avenants={**state.avenants, event.avenant_id: signed})
        case AvenantConcluded():
            avenant = state.avenants[event.avenant_id]
            changes.update(actions=apply_amounts(state.actions, avenant.year, avenant.amounts))
            if avenant.kind is AvenantKind.RENEWAL:
                changes.update(years=_year(state, avenant.year, renewed=True))
        case ExecutionReportSubmitted():
            changes.update(
                years=_year(state, event.report.year, report=event.report, recoverable_etat=event.recoverable_etat)
            )
        case RefactionApplied():
            changes.update(
                years=_year(state, event.to_year, refaction=state.year(event.to_year).refaction + event.amount)
            )
        case MidTermEvaluationRecorded():
            changes.update(mid_term_evaluation=event.evaluations)
        case ContractSuspended():
            changes.update(status=Status.SUSPENDED, suspension_reason=event.reason)
        case ContractResumed():
            changes.update(status=Status.IN_EXECUTION, suspension_reason=None)
        case ContractTerminated():
            changes.update(status=Status.TERMINATED, termination_reason=event.reason)
        case ClosingBegun():
            changes.update(status=Status.CLOSING)
        case ContractClosed():
            changes.update(status=Status.CLOSED, balance=event.balance)
        case DeadlineMissed():
            missed = MissedDeadline(deadline=event.deadline, year=event.year, due=event.due)
            changes.update(missed_deadlines=(*state.missed_deadlines, missed))
    return state.model_copy(update=changes)


def fold(events: Iterable[Event], state: ContractState = INITIAL_STATE) -> ContractState:
    return reduce(evolve, events, state)
