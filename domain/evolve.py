"""evolve(state, event) -> state: folds facts; total, never raises. Rules belong in decide, not here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import reduce
from typing import Any

from domain import late_facts
from domain.actors import Role
from domain.avenants import avenant_effect
from domain.business_time import PARIS, business_date
from domain.events import (
    ActionAdded,
    ActionChanged,
    ActionRemoved,
    AnnualProgrammeSet,
    AvenantConcluded,
    AvenantProposed,
    AvenantSigned,
    AvenantWithdrawn,
    CalendarFactWithdrawn,
    ClosingBegun,
    CommitmentRecorded,
    CommitteeReviewRecorded,
    ContractClosed,
    ContractProposed,
    ContractResumed,
    ContractSigned,
    ContractSuspended,
    ContractTerminated,
    DeadlineMissed,
    DeadlineMissedWithdrawn,
    DeliberationRecorded,
    EnvelopeRecorded,
    Event,
    ExecutionReportRectified,
    ExecutionReportSubmitted,
    MidTermEvaluationRecorded,
    PartySigned,
    PaymentRecorded,
    ProgrammeYearOpened,
    RecoveryCollected,
    RecoveryOrderIssued,
    RefactionApplied,
    SignatureRectified,
)
from domain.money_rules import apply_amounts
from domain.state import INITIAL_STATE, ContractState, Status, YearRecord
from domain.values import (
    Avenant,
    AvenantKind,
    Commitment,
    EnvelopeMovement,
    MissedDeadline,
    Party,
    Payment,
    Signature,
    Titre,
)

# Facts that can only follow the contract's signature (a résiliation, a rectification or the calendar's facts rely on
# nothing the signature's date decides).
_RELY_ON_SIGNATURE = (
    CommitteeReviewRecorded,
    AvenantProposed,
    AvenantSigned,
    AvenantConcluded,
    AvenantWithdrawn,
    ExecutionReportSubmitted,
    MidTermEvaluationRecorded,
    ContractSuspended,
    ContractResumed,
)


def _year(state: ContractState, year: int, **changes: Any) -> dict[int, YearRecord]:
    return {**state.years, year: state.year(year).model_copy(update=changes)}


def evolve(state: ContractState, event: Event, version: int | None = None) -> ContractState:
    """Fold one fact. A fact whose business time is before timer facts already folded (recorded late: the committee
    of 15 December typed on 5 January, after the year opened) is folded where it belongs in business time, and the
    timer facts after it again on top: the state is the same as if every fact had been recorded on its day
    (domain/late_facts.py).

    ``version`` is the fact's stream version (default: the next one); a fold of part of a stream gives it."""
    version = state.version + 1 if version is None else version
    if late_facts.is_late(state, event):
        return late_facts.refolded(state, event, version, fold_fact)
    if isinstance(event, CalendarFactWithdrawn):
        return late_facts.unfolded(state, event, version, fold_fact)
    return fold_fact(state, event, version)


def fold_fact(state: ContractState, event: Event, version: int) -> ContractState:
    """Fold one fact stored at ``version``, in the order given (the versions recorded in the state are the stream's,
    whatever the order of folding)."""
    changes: dict[str, Any] = {
        "version": version,
        "request_ids": state.request_ids.add(event.request_id),
        "last_at": max(state.last_at, event.occurred_at) if state.last_at else event.occurred_at,
    }
    changes.update(late_facts.noted(state, event, version))
    day = business_date(event.occurred_at)
    if isinstance(event, _RELY_ON_SIGNATURE):
        held = event.review.review_date if isinstance(event, CommitteeReviewRecorded) else day
        changes["signature_relied_on"] = min(held, state.signature_relied_on or held)
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
                replaces=event.replaces,
                proposed_on=day,
            )
        case ActionAdded() | ActionChanged():
            # The proposal's own draft actions (same request) leave it PROPOSED; any later change is negotiation.
            part_of_proposal = state.status is Status.PROPOSED and event.request_id in state.request_ids
            changes.update(
                actions={**state.actions, event.action.action_id: event.action},
                status=state.status if part_of_proposal else Status.NEGOTIATING,
                terms_changed_on=day,
            )
        case ActionRemoved():
            changes.update(
                actions={k: v for k, v in state.actions.items() if k != event.action_id},
                status=Status.NEGOTIATING,
                terms_changed_on=day,
            )
        case DeliberationRecorded():
            changes.update(deliberation=event.deliberation, status=Status.DELIBERATED)
        case PartySigned():
            signature = Signature(
                party=event.party, signatory=event.signatory, signed_at=event.occurred_at, version=version
            )
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
                terms=event.terms,
                proposed_by=Party.ETAT if event.actor.role is Role.PREFET else Party.COLLECTIVITE,
            )
            changes.update(avenants={**state.avenants, event.avenant_id: avenant})
            if event.terms.follows_review_of is not None:  # the amendment an ADJUST review called for
                year = event.terms.follows_review_of
                changes.update(years=_year(state, year, adjusted_by=(*state.year(year).adjusted_by, event.avenant_id)))
        case AvenantSigned():
            avenant = state.avenants[event.avenant_id]
            signed = avenant.model_copy(
                update={
                    "signatures": (*avenant.signatures, event.party),
                    "signatories": {**avenant.signatories, event.party: event.signatory},
                }
            )
            changes.update(avenants={**state.avenants, event.avenant_id: signed})
        case AvenantConcluded():
            avenant = state.avenants[event.avenant_id]
            actions, ceiling = avenant_effect(
                state.actions, state.annual_ceiling, avenant.year, avenant.amounts, avenant.terms
            )
            changes.update(actions=actions, annual_ceiling=ceiling)
            if avenant.kind is AvenantKind.RENEWAL:
                changes.update(years=_year(state, avenant.year, renewed=True, renewed_on=day))
        case AvenantWithdrawn():
            withdrawn = state.avenants.get(event.avenant_id)
            changes.update(
                avenants={k: v for k, v in state.avenants.items() if k != event.avenant_id},
                withdrawn_avenants=(*state.withdrawn_avenants, event.avenant_id),
            )
            answered = withdrawn.terms.follows_review_of if withdrawn is not None else None
            if answered is not None:
                adjusted = tuple(a for a in state.year(answered).adjusted_by if a != event.avenant_id)
                changes.update(years=_year(state, answered, adjusted_by=adjusted))
        case ExecutionReportSubmitted():
            changes.update(
                years=_year(
                    state,
                    event.report.year,
                    report=event.report,
                    recoverable_etat=event.recoverable_etat,
                    report_version=version,
                )
            )
        case ExecutionReportRectified():
            year = event.report.year
            years = _year(state, year, report=event.report, recoverable_etat=event.recoverable_etat)
            if event.refaction_delta:
                following = state.year(year + 1)
                years = {
                    **years,
                    year + 1: following.model_copy(update={"refaction": following.refaction + event.refaction_delta}),
                }
            changes.update(years=years)
        case SignatureRectified():
            old = state.signatures.get(event.party)
            if old is not None:
                moved = old.model_copy(update={"signed_at": _same_time_on(old.signed_at, event.signed_on)})
                changes.update(signatures={**state.signatures, event.party: moved})
        case RefactionApplied():
            changes.update(
                years=_year(state, event.to_year, refaction=state.year(event.to_year).refaction + event.amount)
            )
        case MidTermEvaluationRecorded():
            changes.update(mid_term_evaluation=event.evaluations, mid_term_evaluated_on=day)
        case ContractSuspended():
            changes.update(status=Status.SUSPENDED, suspension_reason=event.reason)
        case ContractResumed():
            changes.update(status=Status.IN_EXECUTION, suspension_reason=None)
        case ContractTerminated():
            changes.update(
                status=Status.TERMINATED, termination_reason=event.reason, balance=event.balance, ended_on=day
            )
        case ClosingBegun():
            changes.update(status=Status.CLOSING)
        case ContractClosed():
            changes.update(status=Status.CLOSED, balance=event.balance, ended_on=day)
        case DeadlineMissed():
            missed = MissedDeadline(deadline=event.deadline, year=event.year, due=event.due, version=version)
            changes.update(missed_deadlines=(*state.missed_deadlines, missed))
        case EnvelopeRecorded():
            changes.update(years=_year(state, event.year, **_envelope_moved(state.year(event.year), event)))
        case CommitmentRecorded():
            record = state.year(event.year)
            commitment = Commitment(ej_number=event.ej_number, amount=event.amount, committed_on=day)
            changes.update(years=_year(state, event.year, commitments=(*record.commitments, commitment)))
        case PaymentRecorded():
            record = state.year(event.year)
            payment = Payment(
                ej_number=event.ej_number,
                instalment=event.instalment,
                amount=event.amount,
                document=event.document,
                paid_on=day,
            )
            changes.update(years=_year(state, event.year, payments=(*record.payments, payment)))
        case RecoveryOrderIssued():
            titre = Titre(number=event.titre_number, amount=event.amount, issued_on=day)
            changes.update(years=_year(state, event.year, titres=(*state.year(event.year).titres, titre)))
        case RecoveryCollected():
            titres = tuple(
                t.model_copy(update={"collected": t.collected + event.amount}) if t.number == event.titre_number else t
                for t in state.year(event.year).titres
            )
            changes.update(years=_year(state, event.year, titres=titres))
        case DeadlineMissedWithdrawn():
            changes.update(
                missed_deadlines=tuple(m for m in state.missed_deadlines if m.version != event.withdrawn_version)
            )
    return state.model_copy(update=changes)


def _envelope_moved(record: YearRecord, event: EnvelopeRecorded) -> dict[str, int]:
    """A cancellation takes the frozen credits first (what the decrees cancel), then free ones."""
    moved = {"envelope_movements": record.envelope_movements + 1}
    if event.movement is EnvelopeMovement.NOTIFICATION:
        moved["envelope_notified"] = record.envelope_notified + event.amount
    elif event.movement is EnvelopeMovement.FREEZE:
        moved["envelope_frozen"] = record.envelope_frozen + event.amount
    elif event.movement is EnvelopeMovement.RELEASE:
        moved["envelope_frozen"] = max(0, record.envelope_frozen - event.amount)
    else:
        moved["envelope_frozen"] = max(0, record.envelope_frozen - event.amount)
        moved["envelope_cancelled"] = record.envelope_cancelled + event.amount
    return moved


def _same_time_on(moment: datetime, day: date) -> datetime:
    """The rectified signature keeps its time of day, moved to the corrected French date."""
    paris = moment.astimezone(PARIS)
    return datetime.combine(day, paris.timetz()).astimezone(moment.tzinfo)


def fold(events: Iterable[Event], state: ContractState = INITIAL_STATE) -> ContractState:
    return reduce(evolve, events, state)
