"""Following the money (DOMAIN.md §8, issue 30): the État's envelope of each programme year, its legal commitments
(Chorus EJ) and its payments, each a dated fact with its reference.

    envelope notified (− frozen − cancelled) ≥ committed (AE) ≥ paid (CP)

The État's acts are recorded by the préfet of the territory (its budget service acts under the préfet's delegation:
DOMAIN.md §5's ``budget`` role is not a role of its own yet). None of these commands changes what an older history
decides (they are new), so they need no rule change behind the rules in force.
"""

from __future__ import annotations

from domain.actors import Role
from domain.commands import (
    IssueRecoveryOrder,
    RecordCommitment,
    RecordEnvelope,
    RecordPayment,
    RecordRecoveryCollected,
)
from domain.errors import LifecycleViolation, ValidationRefused
from domain.events import (
    CommitmentRecorded,
    EnvelopeRecorded,
    Event,
    PaymentRecorded,
    RecoveryCollected,
    RecoveryOrderIssued,
)
from domain.limits import MAX_COMMITMENTS_PER_YEAR, MAX_ENVELOPE_MOVEMENTS, MAX_PAYMENTS_PER_YEAR, MAX_TITRES_PER_YEAR
from domain.messages import event_fields
from domain.money import format_euros
from domain.money_trail import owed_back
from domain.policy import Policy
from domain.rules.declaration import rule
from domain.state import ContractState, YearRecord
from domain.status import SIGNED_STATUSES, Status
from domain.values import EnvelopeMovement

PAYABLE_STATUSES = frozenset({Status.SIGNED, Status.IN_EXECUTION, Status.CLOSING})
_SUSPENDED = [({Status.SUSPENDED}, "a suspended contract is resumed before the État commits or pays anything")]


def _positive(amount: int) -> None:
    if amount <= 0:
        raise ValidationRefused(
            "amount: the amount must be above 0 €", field="amount", rule="trail.amount_not_positive", params={}
        )


def _programme_year(year: int, policy: Policy) -> None:
    if not policy.first_year <= year <= policy.last_year:
        raise ValidationRefused(
            f"year: {year} is not a programme year ({policy.first_year}–{policy.last_year})",
            field="year",
            code="date_out_of_programme",
            rule="trail.year_outside",
            params={"year": year},
        )


def payable(state: ContractState, year: int) -> int:
    """The État's payment the contract provides for the year: its programme, less the réfaction of the year before."""
    return max(0, state.etat_total(year) - state.year(year).refaction)


@rule(RecordEnvelope, roles={Role.PREFET}, stages=SIGNED_STATUSES, doing="record the État's envelope")
def record_envelope(command: RecordEnvelope, state: ContractState, policy: Policy) -> list[Event]:
    _programme_year(command.year, policy)
    _positive(command.amount)
    record = state.year(command.year)
    if record.envelope_movements >= MAX_ENVELOPE_MOVEMENTS:
        raise ValidationRefused(
            f"year: {command.year} already holds {MAX_ENVELOPE_MOVEMENTS} movements of its envelope",
            field="year",
            rule="trail.too_many",
            params={"limit": MAX_ENVELOPE_MOVEMENTS},
        )
    free = record.envelope_available - record.committed  # notified, not frozen, cancelled nor committed
    movement = command.movement
    if movement is EnvelopeMovement.NOTIFICATION:
        programmed = state.etat_total(command.year)
        if record.envelope_notified + command.amount > programmed:
            raise ValidationRefused(
                f"amount: {command.year}'s envelope would reach "
                f"{format_euros(record.envelope_notified + command.amount)}, above the programme's État amount "
                f"({format_euros(programmed)})",
                field="amount",
                rule="envelope.above_programme",
                params={"year": command.year, "programmed_cents": programmed},
            )
    elif movement is EnvelopeMovement.FREEZE and command.amount > free:
        raise ValidationRefused(
            f"amount: only {format_euros(free)} of {command.year}'s envelope is neither committed nor frozen",
            field="amount",
            rule="envelope.freeze_above_free",
            params={"year": command.year, "free_cents": free},
        )
    elif movement is EnvelopeMovement.RELEASE and command.amount > record.envelope_frozen:
        raise ValidationRefused(
            f"amount: only {format_euros(record.envelope_frozen)} of {command.year}'s envelope is frozen",
            field="amount",
            rule="envelope.release_above_frozen",
            params={"year": command.year, "frozen_cents": record.envelope_frozen},
        )
    elif movement is EnvelopeMovement.CANCELLATION and command.amount > record.envelope_frozen + free:
        raise ValidationRefused(
            f"amount: only {format_euros(record.envelope_frozen + free)} of {command.year}'s envelope is not "
            "committed; a commitment is cancelled by its own act, not by the envelope",
            field="amount",
            rule="envelope.cancellation_above_uncommitted",
            params={"year": command.year, "uncommitted_cents": record.envelope_frozen + free},
        )
    return [
        EnvelopeRecorded(
            **event_fields(command),
            year=command.year,
            movement=command.movement,
            amount=command.amount,
            reference=command.reference,
        )
    ]


@rule(
    RecordCommitment,
    roles={Role.PREFET},
    stages=PAYABLE_STATUSES,
    doing="record a commitment",
    refused=_SUSPENDED,
)
def record_commitment(command: RecordCommitment, state: ContractState, policy: Policy) -> list[Event]:
    _programme_year(command.year, policy)
    _positive(command.amount)
    known = state.commitment(command.ej_number)
    if known is not None:
        raise ValidationRefused(
            f"ej_number: the engagement juridique {command.ej_number} is already recorded (year {known[0]})",
            field="ej_number",
            code="already_exists",
            rule="commitment.ej_known",
            params={"ej": command.ej_number, "year": known[0]},
        )
    record = state.year(command.year)
    if len(record.commitments) >= MAX_COMMITMENTS_PER_YEAR:
        raise ValidationRefused(
            f"year: {command.year} already holds {MAX_COMMITMENTS_PER_YEAR} commitments",
            field="year",
            rule="trail.too_many",
            params={"limit": MAX_COMMITMENTS_PER_YEAR},
        )
    if record.committed + command.amount > record.envelope_available:
        raise ValidationRefused(
            f"amount: {command.year}'s commitments would reach {format_euros(record.committed + command.amount)}, "
            f"above the envelope available ({format_euros(record.envelope_available)})",
            field="amount",
            rule="commitment.above_envelope",
            params={
                "year": command.year,
                "available_cents": record.envelope_available,
                "committed_cents": record.committed,
            },
        )
    return [
        CommitmentRecorded(
            **event_fields(command), year=command.year, ej_number=command.ej_number, amount=command.amount
        )
    ]


@rule(
    RecordPayment,
    roles={Role.PREFET},
    stages=PAYABLE_STATUSES,
    doing="record a payment",
    refused=_SUSPENDED,
)
def record_payment(command: RecordPayment, state: ContractState, policy: Policy) -> list[Event]:
    _positive(command.amount)
    known = state.commitment(command.ej_number)
    if known is None:
        raise ValidationRefused(
            f"ej_number: no engagement juridique {command.ej_number} is recorded for this contract",
            field="ej_number",
            code="not_found",
            rule="payment.unknown_ej",
            params={"ej": command.ej_number},
        )
    year, commitment = known
    record = state.year(year)
    if any(p.document == command.document for r in state.years.values() for p in r.payments):
        raise ValidationRefused(
            f"document: the payment {command.document} is already recorded",
            field="document",
            code="already_exists",
            rule="payment.document_known",
            params={"document": command.document},
        )
    if len(record.payments) >= MAX_PAYMENTS_PER_YEAR:
        raise ValidationRefused(
            f"ej_number: {year} already holds {MAX_PAYMENTS_PER_YEAR} payments",
            field="ej_number",
            rule="trail.too_many",
            params={"limit": MAX_PAYMENTS_PER_YEAR},
        )
    paid_on_ej = record.paid_on(command.ej_number)
    if paid_on_ej + command.amount > commitment.amount:
        raise ValidationRefused(
            f"amount: payments on {command.ej_number} would reach {format_euros(paid_on_ej + command.amount)}, "
            f"above its commitment ({format_euros(commitment.amount)})",
            field="amount",
            rule="payment.above_commitment",
            params={"ej": command.ej_number, "committed_cents": commitment.amount, "paid_cents": paid_on_ej},
        )
    names = [i.name for i in policy.instalments]
    if command.instalment not in names:
        raise ValidationRefused(
            f"instalment: the convention's instalments are {', '.join(names)}, not {command.instalment}",
            field="instalment",
            rule="payment.unknown_instalment",
            params={"instalment": command.instalment, "known": ", ".join(names)},
        )
    _check_instalment(command, state, policy, year, record)
    return [
        PaymentRecorded(
            **event_fields(command),
            year=year,
            ej_number=command.ej_number,
            instalment=command.instalment,
            amount=command.amount,
            document=command.document,
        )
    ]


def _check_instalment(
    command: RecordPayment, state: ContractState, policy: Policy, year: int, record: YearRecord
) -> None:
    """The instalment's condition and share: an advance once signed, the balance once the year is reported — and then
    never beyond the État spending reported, nor while the programme is above the envelope (an avenant financier
    brings the programme, hence the collectivité's matching share, to the envelope first)."""
    instalment = next(i for i in policy.instalments if i.name == command.instalment)
    due = payable(state, year)
    after = record.paid + command.amount
    if instalment.after == "execution_report":
        if record.report is None:
            raise LifecycleViolation(
                f"instalment: the {instalment.name} of {year} is paid once its execution report is in",
                field="instalment",
                rule="payment.before_report",
                params={"instalment": instalment.name, "year": year},
            )
        if due > record.envelope_available:
            raise LifecycleViolation(
                f"instalment: {year}'s programme ({format_euros(due)} payable) is above its envelope "
                f"({format_euros(record.envelope_available)}); an avenant financier brings the programme to the "
                "envelope before its balance is paid",
                field="instalment",
                rule="payment.programme_above_envelope",
                params={"year": year, "payable_cents": due, "available_cents": record.envelope_available},
            )
        used = sum(record.report.etat_spent.values())
        if after > used:
            raise ValidationRefused(
                f"amount: {year}'s payments would reach {format_euros(after)}, above the État spending its report "
                f"gives ({format_euros(used)})",
                field="amount",
                rule="payment.above_used",
                params={"year": year, "used_cents": used},
            )
    share = due * instalment.share_percent // 100
    if after > share:
        raise ValidationRefused(
            f"amount: {year}'s payments would reach {format_euros(after)}, above the {instalment.name}'s share "
            f"({instalment.share_percent} % of {format_euros(due)}: {format_euros(share)})",
            field="amount",
            rule="payment.above_instalment",
            params={"year": year, "instalment": instalment.name, "share_cents": share},
        )


@rule(IssueRecoveryOrder, roles={Role.PREFET}, stages=SIGNED_STATUSES, doing="issue a titre de perception")
def issue_recovery_order(command: IssueRecoveryOrder, state: ContractState, policy: Policy) -> list[Event]:
    _programme_year(command.year, policy)
    _positive(command.amount)
    known = state.titre(command.titre_number)
    if known is not None:
        raise ValidationRefused(
            f"titre_number: the titre de perception {command.titre_number} is already recorded (year {known[0]})",
            field="titre_number",
            code="already_exists",
            rule="recovery.titre_known",
            params={"titre": command.titre_number, "year": known[0]},
        )
    record = state.year(command.year)
    if len(record.titres) >= MAX_TITRES_PER_YEAR:
        raise ValidationRefused(
            f"year: {command.year} already holds {MAX_TITRES_PER_YEAR} titres de perception",
            field="year",
            rule="trail.too_many",
            params={"limit": MAX_TITRES_PER_YEAR},
        )
    if record.report is None:
        raise LifecycleViolation(
            f"year: nothing of {command.year} is claimed back before its execution report",
            field="year",
            rule="recovery.before_report",
            params={"year": command.year},
        )
    owed = owed_back(state, command.year)
    if record.claimed + command.amount > owed:
        raise ValidationRefused(
            f"amount: {command.year}'s titres would reach {format_euros(record.claimed + command.amount)}, above what "
            f"is owed back of what was paid ({format_euros(owed)})",
            field="amount",
            rule="recovery.above_owed",
            params={"year": command.year, "owed_cents": owed, "claimed_cents": record.claimed},
        )
    return [
        RecoveryOrderIssued(
            **event_fields(command), year=command.year, titre_number=command.titre_number, amount=command.amount
        )
    ]


@rule(RecordRecoveryCollected, roles={Role.PREFET}, stages=SIGNED_STATUSES, doing="record a recovery")
def record_recovery(command: RecordRecoveryCollected, state: ContractState, policy: Policy) -> list[Event]:
    _positive(command.amount)
    known = state.titre(command.titre_number)
    if known is None:
        raise ValidationRefused(
            f"titre_number: no titre de perception {command.titre_number} is recorded for this contract",
            field="titre_number",
            code="not_found",
            rule="recovery.unknown_titre",
            params={"titre": command.titre_number},
        )
    year, titre = known
    if titre.collected + command.amount > titre.amount:
        raise ValidationRefused(
            f"amount: {format_euros(titre.amount - titre.collected)} is left to collect on {titre.number}",
            field="amount",
            rule="recovery.above_titre",
            params={"titre": titre.number, "left_cents": titre.amount - titre.collected},
        )
    return [
        RecoveryCollected(**event_fields(command), year=year, titre_number=command.titre_number, amount=command.amount)
    ]
