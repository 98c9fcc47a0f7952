"""A wrong fact is rectified, never deleted: an execution report's figures, a signature's date. A fact is rectified by
a role that may record it in the first place."""

from __future__ import annotations

from domain.actors import Role
from domain.axes import TerritoryKind
from domain.balance import recoverable_for_year
from domain.business_time import business_date
from domain.commands import (
    RectifyExecutionReport,
    RectifySignature,
)
from domain.deadlines import DeadlineKind, obligation_met_on
from domain.errors import (
    DateViolation,
    LifecycleViolation,
    ValidationRefused,
)
from domain.events import (
    DeadlineMissed,
    Event,
    ExecutionReportRectified,
    SignatureRectified,
)
from domain.evolve import fold
from domain.messages import event_fields
from domain.policy import Policy
from domain.rules.declaration import rule
from domain.rules.execution import check_report_amounts
from domain.rules.parties import check_party
from domain.state import ContractState
from domain.status import RUNNING_STATUSES, SIGNED_STATUSES, Status
from domain.values import ExecutionReport


@rule(
    RectifyExecutionReport,
    roles={Role.COLLECTIVITE},
    stages=RUNNING_STATUSES | {Status.CLOSING},
    doing="rectify an execution report",
)
def rectify_report(command: RectifyExecutionReport, state: ContractState, policy: Policy) -> list[Event]:
    """A report's figures corrected, decided by the same rules as the report; the réfaction follows. Not once the
    contract is closed: its balance is final (a closed contract changes by no fact)."""
    record = state.year(command.year)
    if record.report is None:
        raise ValidationRefused(
            f"year: there is no execution report of {command.year} to rectify",
            field="year",
            rule="report.none_to_rectify",
            params={"year": command.year},
        )
    following = state.year(command.year + 1)
    # The réfaction chain follows business order (issue 24): N+1's report settled N's réfaction only if it came after
    # N's report; one filed before it (N's report was late) settled nothing of N, which may still be rectified.
    settled = following.report is not None and (
        policy.order_rules < 2 or following.report.submitted_at >= record.report.submitted_at
    )
    if settled:
        raise LifecycleViolation(
            f"year: the report of {command.year + 1} is in, and it was settled with the réfaction from "
            f"{command.year}'s report; {command.year} can no longer be rectified",
            field="year",
            rule="report.settled",
            params={"year": command.year},
        )
    check_report_amounts(state, command.year, command.etat_spent, command.collectivite_spent)
    recoverable = recoverable_for_year(state.actions, command.year, command.etat_spent, command.collectivite_spent)
    delta = recoverable - record.recoverable_etat if command.year < policy.last_year else 0
    report = ExecutionReport(
        year=command.year,
        etat_spent=command.etat_spent,
        collectivite_spent=command.collectivite_spent,
        submitted_at=record.report.submitted_at,
    )
    if report == record.report:
        raise ValidationRefused(
            "etat_spent: the rectified report is the same as the one recorded",
            field="etat_spent",
            rule="report.unchanged",
        )
    return [
        ExecutionReportRectified(
            **event_fields(command),
            rectifies_version=record.report_version,
            report=report,
            recoverable_etat=recoverable,
            refaction_delta=delta,
            reason=command.reason,
        )
    ]


@rule(
    RectifySignature,
    roles={Role.PREFET, Role.COLLECTIVITE},
    stages=SIGNED_STATUSES,
    doing="rectify a signature",
    enforce_stages=False,  # a signature to rectify exists only once signed: its own rule says so, naming the party
)
def rectify_signature(command: RectifySignature, state: ContractState, policy: Policy) -> list[Event]:
    """A signature's date corrected by its own party. The date must fit the facts around it: after the
    deliberation, not after the date it is corrected on, and the first year opened stays the year signed in."""
    check_party(command.party, command.actor, state)
    signature = state.signatures.get(command.party)
    if signature is None:
        raise ValidationRefused(
            f"party: {command.party.value} has not signed; nothing to rectify",
            field="party",
            rule="signature.not_signed",
            params={"party": command.party.value},
        )
    if command.signed_on > business_date(command.at):
        raise DateViolation(
            f"signed_on: {command.signed_on} is in the future",
            field="signed_on",
            rule="date.in_future",
            params={"date": str(command.signed_on)},
        )
    if state.deliberation is not None and command.signed_on < state.deliberation.voted_on:
        raise DateViolation(
            f"signed_on: a signature on {command.signed_on} cannot precede the deliberation "
            f"(voted on {state.deliberation.voted_on})",
            field="signed_on",
            rule="signature.before_deliberation",
            params={"date": str(command.signed_on), "voted_date": str(state.deliberation.voted_on)},
        )
    relied = state.signature_relied_on
    if relied is not None and policy.order_rules >= 2:
        others = [business_date(s.signed_at) for p, s in state.signatures.items() if p is not command.party]
        signed = max([command.signed_on, *others])
        if signed > relied:
            raise DateViolation(
                f"signed_on: the contract would be signed on {signed}, after facts that needed it signed (the first "
                f"on {relied}: a committee review, an avenant, a report, a suspension or the evaluation); a "
                "rectification obeys every rule the original and the facts after it obey",
                field="signed_on",
                rule="signature.relied_on",
                params={"date": str(signed), "relied_date": str(relied)},
            )
    if command.signed_on == business_date(signature.signed_at):
        raise ValidationRefused(
            f"signed_on: the signature is already dated {command.signed_on}",
            field="signed_on",
            rule="signature.same_date",
            params={"date": str(command.signed_on)},
        )
    first_year = state.first_year
    if len(state.signatures) == 2 and first_year is not None:
        others = [business_date(s.signed_at) for p, s in state.signatures.items() if p is not command.party]
        if policy.year_opened_by(max([command.signed_on, *others])) != first_year:
            raise LifecycleViolation(
                f"signed_on: the contract's first programme year ({first_year}) was opened by its signature; a "
                f"signature on {command.signed_on} would change it, which a rectification cannot do",
                field="signed_on",
                rule="signature.opens_first_year",
                params={"year": first_year},
            )
    events: list[Event] = [
        SignatureRectified(
            **event_fields(command),
            rectifies_version=signature.version,
            party=command.party,
            signed_on=command.signed_on,
            reason=command.reason,
        )
    ]
    if state.kind is TerritoryKind.METROPOLE and len(state.signatures) == 2:
        after = fold(events, state)
        met = obligation_met_on(after, DeadlineKind.SIGNATURE, None)
        due = policy.metropole_signature_deadline
        recorded = any(m.deadline == DeadlineKind.SIGNATURE.value for m in state.missed_deadlines)
        if met is not None and met > due and not recorded:  # now known to be late: the miss is a fact too
            events.append(
                DeadlineMissed(**event_fields(command), deadline=DeadlineKind.SIGNATURE.value, year=None, due=due)
            )
    return events
