"""The programme years in execution: their opening, the committee's reviews, the execution reports, the mid-term
evaluation, a suspension and its end, and the deadlines missed."""

from __future__ import annotations

from datetime import date

from domain.actors import Role
from domain.balance import recoverable_for_year
from domain.business_time import business_date
from domain.commands import (
    OpenProgrammeYear,
    RecordCommitteeReview,
    RecordMidTermEvaluation,
    RecordMissedDeadline,
    Resume,
    SubmitExecutionReport,
    Suspend,
)
from domain.deadlines import pending_deadlines
from domain.errors import (
    DateViolation,
    LifecycleViolation,
    Refusals,
    ValidationRefused,
)
from domain.events import (
    CommitteeReviewRecorded,
    ContractResumed,
    ContractSuspended,
    DeadlineMissed,
    Event,
    ExecutionReportSubmitted,
    MidTermEvaluationRecorded,
    ProgrammeYearOpened,
    RefactionApplied,
)
from domain.messages import event_fields
from domain.money import format_euros
from domain.policy import Policy
from domain.rules.declaration import rule
from domain.state import ContractState
from domain.status import NEGOTIABLE_STATUSES, RUNNING_STATUSES, Status
from domain.values import CommitteeReview, Decision, ExecutionReport


@rule(OpenProgrammeYear, roles={Role.SYSTEM}, stages=RUNNING_STATUSES, doing="open a programme year")
def open_year(command: OpenProgrammeYear, state: ContractState, policy: Policy) -> list[Event]:
    assert state.current_year is not None
    if command.year != state.current_year + 1 or command.year > policy.last_year:
        raise ValidationRefused(
            f"year: the next programme year is {state.current_year + 1}, not {command.year}",
            field="year",
            rule="year.not_next",
            params={"year": command.year, "expected": state.current_year + 1},
        )
    if business_date(command.at) < date(command.year, 1, 1):
        raise DateViolation(
            f"occurred_at: {command.year} cannot be opened before 1 January {command.year}",
            field="occurred_at",
            rule="year.opened_too_early",
            params={"year": command.year},
        )
    return [ProgrammeYearOpened(**event_fields(command), year=command.year)]


@rule(
    RecordCommitteeReview,
    roles={Role.COMMISSAIRE},
    stages=RUNNING_STATUSES | {Status.CLOSING},  # closing: the last year's review only (below)
    doing="record a committee review",
    refused=[
        (
            NEGOTIABLE_STATUSES | {Status.DELIBERATED, Status.SIGNED},
            "no committee review before the contract is signed and in execution",
        )
    ],
)
def record_review(command: RecordCommitteeReview, state: ContractState, policy: Policy) -> list[Event]:
    assert state.current_year is not None
    if state.status is Status.CLOSING and (policy.order_rules < 2 or command.year != policy.last_year):
        # Once closing, only the last year's review may still come in (typed after 31 December, or its miss would
        # stay for ever: issue 24); the first rules refused every review then.
        raise LifecycleViolation(
            f"status: the contract is closing; only the committee review of {policy.last_year} can still be recorded",
            field="status",
            rule="review.closing",
            params={"year": policy.last_year},
        )
    if not state.year(command.year).opened or command.year > state.current_year:
        raise ValidationRefused(
            f"year: {command.year} is not an opened programme year (current year {state.current_year})",
            field="year",
            rule="year.not_opened",
            params={"year": command.year},
        )
    if command.review_date.year != command.year or command.review_date > business_date(command.at):
        raise DateViolation(
            f"review_date: the review of {command.year} takes place in {command.year}, and not after the date it is "
            f"recorded as of ({business_date(command.at)})",
            field="review_date",
            rule="review.date_outside_year",
            params={"year": command.year, "fact_date": str(business_date(command.at))},  # the bound applied
        )
    signed_on = max((business_date(s.signed_at) for s in state.signatures.values()), default=None)
    if signed_on is not None and command.review_date < signed_on:
        raise DateViolation(
            f"review_date: a committee reviews a signed contract; {command.review_date} is before the signature "
            f"({signed_on})",
            field="review_date",
            rule="review.before_signature",
            params={"date": str(command.review_date), "signed_date": str(signed_on)},
        )
    if len(state.year(command.year).reviews) >= policy.max_reviews_per_year:
        raise ValidationRefused(
            f"year: {command.year} has {policy.max_reviews_per_year} committee reviews already, the most a year "
            "holds (Policy.max_reviews_per_year)",
            field="year",
            rule="review.too_many",
            params={"year": command.year, "limit": policy.max_reviews_per_year},
        )
    refusals = Refusals()  # every fiche's figures judged on their own: all refused at once
    for action_id in {*command.indicator_values, *command.spending}:
        with refusals.check():
            if action_id not in state.actions:
                raise ValidationRefused(
                    f"spending: {action_id} is not an action of this contract",
                    field="spending",
                    rule="action.unknown",
                    params={"action": action_id},
                )
    for action_id, indicators in command.indicator_values.items():
        known = {i.code for i in state.actions[action_id].indicators} if action_id in state.actions else set()
        for code in indicators:
            with refusals.check():
                if action_id in state.actions and code not in known:
                    raise ValidationRefused(
                        f"indicator_values: {action_id} has no indicator {code!r} ({', '.join(sorted(known))})",
                        field="indicator_values",
                        rule="indicator.unknown",
                        params={"action": action_id, "indicator": code},
                    )
    for action_id, spent in command.spending.items():
        if action_id not in state.actions:
            continue
        amounts = state.actions[action_id].amounts.get(command.year)
        programmed = amounts.etat if amounts else 0
        with refusals.check():
            if spent > programmed:
                raise ValidationRefused(
                    f"spending: {action_id} reports {format_euros(spent)} of État credits spent in {command.year}, "
                    f"more than the {format_euros(programmed)} programmed",
                    field=f"spending.{action_id}",
                    rule="spending.above_programmed",
                    params={
                        "action": action_id,
                        "year": command.year,
                        "spent_cents": spent,
                        "programmed_cents": programmed,
                    },
                )
    refusals.raise_found()
    review = CommitteeReview(
        year=command.year,
        review_date=command.review_date,
        indicator_values=command.indicator_values,
        spending=command.spending,
        findings=command.findings,
        decision=command.decision,
    )
    base = event_fields(command)
    events: list[Event] = [CommitteeReviewRecorded(**base, review=review)]
    if command.decision is Decision.SUSPEND and state.status is Status.IN_EXECUTION:
        events.append(ContractSuspended(**base, reason=f"committee review of {command.year}: {command.findings}"))
    return events


def check_report_amounts(
    state: ContractState, year: int, etat_spent: dict[str, int], collectivite_spent: dict[str, int]
) -> None:
    refusals = Refusals()  # every fiche's figures judged on their own: all refused at once
    for field, spent in (("etat_spent", etat_spent), ("collectivite_spent", collectivite_spent)):
        for action_id in spent:
            with refusals.check():
                if action_id not in state.actions:
                    raise ValidationRefused(
                        f"{field}: {action_id} is not an action of this contract",
                        field=f"{field}.{action_id}",
                        rule="action.unknown",
                        params={"action": action_id},
                    )
    for action_id, spent_etat in etat_spent.items():
        if action_id not in state.actions:
            continue
        amounts = state.actions[action_id].amounts.get(year)
        programmed = amounts.etat if amounts else 0
        with refusals.check():
            if spent_etat > programmed:
                raise ValidationRefused(
                    f"etat_spent: {action_id} cannot have spent {format_euros(spent_etat)} of État credits in "
                    f"{year}: {format_euros(programmed)} were programmed",
                    field=f"etat_spent.{action_id}",
                    rule="spending.above_programmed",
                    params={
                        "action": action_id,
                        "year": year,
                        "spent_cents": spent_etat,
                        "programmed_cents": programmed,
                    },
                )
    refusals.raise_found()


@rule(
    SubmitExecutionReport,
    roles={Role.COLLECTIVITE},
    stages=RUNNING_STATUSES | {Status.CLOSING},
    doing="submit an execution report",
)
def submit_report(command: SubmitExecutionReport, state: ContractState, policy: Policy) -> list[Event]:
    assert state.current_year is not None
    ended = command.year < state.current_year or (state.status is Status.CLOSING and command.year == policy.last_year)
    if not state.year(command.year).opened and command.year >= state.current_year:
        ended = False
    if not ended or business_date(command.at) <= date(command.year, 12, 31):
        raise LifecycleViolation(
            f"year: the execution report of {command.year} is submitted once that year is over",
            field="year",
            rule="report.year_not_over",
            params={"year": command.year},
        )
    if command.year not in policy.years:
        raise DateViolation(
            f"year: {command.year} is outside the programme",
            field="year",
            rule="year.outside_programme",
            params={"year": command.year, "first": policy.first_year, "last": policy.last_year},
        )
    if not state.year(command.year).opened:
        raise LifecycleViolation(
            f"year: {command.year} never ran under this contract (the État funded it from "
            f"{state.first_year or '—'}); no report and no réfaction for it",
            field="year",
            rule="report.year_never_ran",
            params={"year": command.year},
        )
    if state.year(command.year).report is not None:
        raise LifecycleViolation(
            f"year: the execution report of {command.year} is already submitted",
            field="year",
            rule="report.already_submitted",
            params={"year": command.year},
        )
    check_report_amounts(state, command.year, command.etat_spent, command.collectivite_spent)
    recoverable = recoverable_for_year(state.actions, command.year, command.etat_spent, command.collectivite_spent)
    base = event_fields(command)
    report = ExecutionReport(
        year=command.year,
        etat_spent=command.etat_spent,
        collectivite_spent=command.collectivite_spent,
        submitted_at=command.at,
    )
    events: list[Event] = [ExecutionReportSubmitted(**base, report=report, recoverable_etat=recoverable)]
    if recoverable and command.year < policy.last_year:
        events.append(RefactionApplied(**base, from_year=command.year, to_year=command.year + 1, amount=recoverable))
    return events


@rule(
    RecordMidTermEvaluation, roles={Role.COMMISSAIRE}, stages=RUNNING_STATUSES, doing="record the mid-term evaluation"
)
def record_mid_term(command: RecordMidTermEvaluation, state: ContractState, policy: Policy) -> list[Event]:
    if business_date(command.at) < policy.mid_term_evaluation_opens:
        raise DateViolation(
            f"occurred_at: the mid-term evaluation is made from {policy.mid_term_evaluation_opens}, not on "
            f"{business_date(command.at)}",
            field="occurred_at",
            rule="evaluation.too_early",
            params={"opens_date": str(policy.mid_term_evaluation_opens)},
        )
    if state.mid_term_evaluation is not None:
        raise LifecycleViolation(
            "evaluations: the mid-term evaluation is already recorded",
            field="evaluations",
            rule="evaluation.already_recorded",
        )
    missing = sorted(set(state.actions) - set(command.evaluations))
    unknown = sorted(set(command.evaluations) - set(state.actions))
    refusals = Refusals()  # the fiches evaluated and what is said of each, refused at once
    with refusals.check():
        if missing or unknown:
            raise ValidationRefused(
                "evaluations: every action is evaluated, and only those"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
                field="evaluations",
                rule="evaluation.every_action",
                params={"missing": ", ".join(missing) or "—", "unknown": ", ".join(unknown) or "—"},
            )
    with refusals.check():
        if any(not text.strip() for text in command.evaluations.values()):
            raise ValidationRefused(
                "evaluations: an evaluation cannot be empty", field="evaluations", rule="evaluation.empty"
            )
    refusals.raise_found()
    return [MidTermEvaluationRecorded(**event_fields(command), evaluations=command.evaluations)]


@rule(Suspend, roles={Role.COMMISSAIRE}, stages={Status.IN_EXECUTION}, doing="suspend the contract")
def suspend(command: Suspend, state: ContractState, policy: Policy) -> list[Event]:
    return [ContractSuspended(**event_fields(command), reason=command.reason)]


@rule(Resume, roles={Role.PREFET, Role.COMMISSAIRE}, stages={Status.SUSPENDED}, doing="resume the contract")
def resume(command: Resume, state: ContractState, policy: Policy) -> list[Event]:
    return [ContractResumed(**event_fields(command), reason=command.reason)]


@rule(RecordMissedDeadline, roles={Role.SYSTEM})
def record_missed(command: RecordMissedDeadline, state: ContractState, policy: Policy) -> list[Event]:
    if any(m.deadline == command.deadline and m.year == command.year for m in state.missed_deadlines):
        raise LifecycleViolation(
            f"deadline: the missed {command.deadline} deadline of {command.year} is already recorded",
            field="deadline",
            rule="deadline.already_recorded",
        )
    if business_date(command.at) <= command.due:
        raise DateViolation(f"due: {command.due} is not past yet", field="due", rule="deadline.not_past")
    # Decided from the state and the policy, never from the command's say-so.
    owed = [d for d in pending_deadlines(state, policy) if d.kind.value == command.deadline and d.year == command.year]
    if not owed or owed[0].due != command.due:
        raise ValidationRefused(
            f"deadline: no {command.deadline} obligation of {command.year or 'the contract'} due on {command.due} "
            "is pending",
            field="deadline",
            rule="deadline.not_pending",
        )
    return [DeadlineMissed(**event_fields(command), deadline=command.deadline, year=command.year, due=command.due)]
