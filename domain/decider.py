"""decide(command, state, policy) -> events: every business rule lives here. It never reads a clock.

A refusal raises a DomainError whose code is stable and whose sentence names the field and the rule; a refused
command yields no event at all. A repeated request id yields no new event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from domain.actors import SYSTEM_ACTOR, Actor, Role
from domain.authorization import check_role, check_scope, check_territory_scope
from domain.avenants import avenant_effect
from domain.axes import TerritoryKind
from domain.balance import closing_balance, recoverable_for_year
from domain.business_time import business_date
from domain.commands import (
    COMMAND_ADAPTER,
    AddAction,
    Amend,
    BeginClosing,
    ChangeAction,
    CloseContract,
    Command,
    OpenProgrammeYear,
    ProposeContract,
    RecordCommitteeReview,
    RecordDeliberation,
    RecordMidTermEvaluation,
    RecordMissedDeadline,
    RectifyExecutionReport,
    RectifySignature,
    RemoveAction,
    Renew,
    Resume,
    SignAvenant,
    SignContract,
    SubmitExecutionReport,
    Suspend,
    Terminate,
)
from domain.deadlines import DeadlineKind, obligation_met_on, pending_deadlines
from domain.errors import (
    DateViolation,
    DomainError,
    IdempotencyKeyReused,
    LifecycleViolation,
    OutOfScope,
    UnknownTerritory,
    ValidationRefused,
)
from domain.events import (
    ActionAdded,
    ActionChanged,
    ActionRemoved,
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
    DeadlineMissedWithdrawn,
    DeliberationRecorded,
    Event,
    ExecutionReportRectified,
    ExecutionReportSubmitted,
    MidTermEvaluationRecorded,
    PartySigned,
    ProgrammeYearOpened,
    RefactionApplied,
    SignatureRectified,
)
from domain.evolve import evolve, fold, rewound
from domain.lifecycle import WHEN
from domain.limits import MAX_ACTIONS, MAX_AVENANTS, MAX_FACTS, MAX_REVIEWS_PER_YEAR
from domain.money import format_euros
from domain.money_rules import (
    apply_amounts,
    check_action,
    check_amounts_for_year,
    check_axes_covered,
    check_axes_funded,
    check_ceiling,
)
from domain.policy import Policy
from domain.request_log import key_of
from domain.state import FINAL_STATUSES, NEGOTIABLE_STATUSES, ContractState, Status
from domain.territories import TerritoryCatalogue, attempt_of, contract_id_for
from domain.values import Avenant, AvenantKind, AvenantTerms, CommitteeReview, Decision, ExecutionReport, Party

_CATALOGUE = TerritoryCatalogue()


def decide(
    command: Command,
    state: ContractState,
    policy: Policy,
    catalogue: TerritoryCatalogue = _CATALOGUE,
) -> list[Event]:
    """Return the events the command causes, or raise a DomainError. Pure: same inputs, same events."""
    if command.request_id in state.request_ids:
        return []  # a repeated request yields no new event
    check_role(command.type, command.actor)
    if state.request_ids.key_reused(command.request_id):
        raise IdempotencyKeyReused(
            f"request_id: the idempotency key {(key_of(command.request_id) or '')[:60]!r} was already used for a different request on "
            f"{state.contract_id}; a retry must repeat the same command, a new command needs a new key",
            field="request_id",
        )
    _check_not_in_future(command, policy)
    if isinstance(command, ProposeContract):
        return _propose(command, state, policy, catalogue)
    if state.status is Status.NONE:
        raise LifecycleViolation(
            f"contract_id: there is no contract {command.contract_id}; the préfet proposes it first",
            field="contract_id",
            code="not_found",
        )
    if command.contract_id != state.contract_id:
        raise ValidationRefused(
            f"contract_id: this is {state.contract_id}, not {command.contract_id}", field="contract_id"
        )
    if state.status in FINAL_STATUSES:
        raise LifecycleViolation(
            f"status: {state.contract_id} is {state.status.value}; nothing can be done after closing or termination",
            field="status",
        )
    check_scope(
        command.actor,
        territory_id=state.territory_id,
        departements=state.departements,
        region=state.region,
        name=state.territory_name,
    )
    earliest = policy.earliest_date_for(state.kind)
    if business_date(command.at) < earliest:
        raise DateViolation(
            f"occurred_at: {business_date(command.at)} is before the programme's earliest date for this territory "
            f"({earliest}, the instruction)",
            field="occurred_at",
        )
    late = state.last_at is not None and command.at < state.last_at
    if late and _may_precede_calendar(state, command.at):
        events = _decide_late(command, state, policy)
    else:
        if late:
            assert state.last_at is not None
            if (state.last_at - command.at).total_seconds() > policy.clock_skew_tolerance_s:
                raise DateViolation(
                    f"occurred_at: {command.at.isoformat()} is before the contract's last recorded fact "
                    f"({state.last_at.isoformat()}); facts are recorded in the order they happened (a fact "
                    "recorded late may only precede the calendar's own facts: year openings, missed deadlines), and "
                    "a wrong fact is rectified",
                    field="occurred_at",
                )
            command = command.model_copy(update={"at": state.last_at})  # keep each stream's business time monotone
        events = _HANDLERS[command.type](command, state, policy)
    _check_size(command, state, events)
    return events + _withdrawals(command, fold(events, state), policy)


def _check_size(command: Command, state: ContractState, events: list[Event]) -> None:
    """A contract's stream (and the request log its state keeps) stays bounded; the calendar always has room."""
    if command.actor.role is not Role.SYSTEM and state.version + len(events) > MAX_FACTS - 100:
        raise ValidationRefused(
            f"contract_id: {state.contract_id} holds {state.version} facts, the most one contract may hold is "
            f"{MAX_FACTS}; ask the administrators",
            field="contract_id",
            code="contract_full",
        )


def _check_not_in_future(command: Command, policy: Policy) -> None:
    if command.entered_at is None:
        return
    if (command.at - command.entered_at).total_seconds() > policy.clock_skew_tolerance_s:
        raise DateViolation(
            f"occurred_at: {command.at.isoformat()} is in the future (now: {command.entered_at.isoformat()}); a fact "
            "is recorded once it has happened",
            field="occurred_at",
        )


def _may_precede_calendar(state: ContractState, moment: datetime) -> bool:
    """Only the calendar's facts were recorded after ``moment``: history is not rewritten under people's facts."""
    rewind = state.rewind
    return rewind is not None and (rewind.last_at is None or moment >= rewind.last_at)


_TIMER_COMMANDS = {"ProgrammeYearOpened": "OpenProgrammeYear", "ClosingBegun": "BeginClosing"}


def _decide_late(command: Command, state: ContractState, policy: Policy) -> list[Event]:
    """A fact recorded after the calendar's facts of later dates: decided on the state as it stood on its date, and
    the calendar's facts after it must still hold (a year still opens, closing still begins). A deadline it met in
    time is withdrawn by decide, as for any command."""
    before = rewound(state, command.at)
    events = _HANDLERS[command.type](command, before, policy)
    after = fold(events, before)
    assert state.rewind is not None
    for fact in state.rewind.timer_facts:
        event = fact.event
        if event.occurred_at <= command.at:
            continue
        if event.type in _TIMER_COMMANDS:
            kind = _TIMER_COMMANDS[event.type]
            fields: dict[str, Any] = {"year": event.year} if isinstance(event, ProgrammeYearOpened) else {}
            try:
                _HANDLERS[kind](_system_command(command, kind, event.occurred_at, fields), after, policy)
            except DomainError as error:
                raise LifecycleViolation(
                    f"occurred_at: recorded as of {business_date(command.at)}, this {command.type} would undo what "
                    f"the calendar recorded on {business_date(event.occurred_at)} ({event.type}: {error.message}); "
                    "record it as of today instead",
                    field="occurred_at",
                ) from None
        after = evolve(after, event, fact.version)
    return events


def _system_command(command: Command, kind: str, at: datetime, fields: dict[str, Any]) -> Command:
    return COMMAND_ADAPTER.validate_python(
        {"type": kind, "contract_id": command.contract_id, "actor": SYSTEM_ACTOR, "request_id": "recheck", "at": at}
        | fields
    )


def _withdrawals(command: Command, after: ContractState, policy: Policy) -> list[Event]:
    """Compensating facts: each missed deadline whose obligation, as now recorded, was met on or before its due date
    (a fact recorded late, a rectified date) is withdrawn. Never deleted: the withdrawal names the fact it withdraws."""
    out: list[Event] = []
    for missed in after.missed_deadlines:
        met = obligation_met_on(after, missed.deadline, missed.year)
        if met is not None and met <= missed.due:
            out.append(
                DeadlineMissedWithdrawn(
                    **_base(command),
                    deadline=missed.deadline,
                    year=missed.year,
                    due=missed.due,
                    withdrawn_version=missed.version,
                    met_on=met,
                    reason=f"{missed.deadline} met on {met}, by {missed.due}: recorded after the deadline was "
                    "thought missed",
                )
            )
    return out


def _base(command: Command) -> dict[str, Any]:
    return {
        "contract_id": command.contract_id,
        "actor": command.actor,
        "request_id": command.request_id,
        "occurred_at": command.at,
        "recorded_by": command.recorded_by,
        "source": command.source,
    }


def _require(state: ContractState, allowed: frozenset[Status] | set[Status], doing: str) -> None:
    if state.status not in allowed:
        expected = ", ".join(sorted(s.value for s in allowed))
        raise LifecycleViolation(
            f"status: cannot {doing} while the contract is {state.status.value} (possible when {expected})",
            field="status",
        )


def _party_of(actor: Actor) -> Party:
    return Party.ETAT if actor.role is Role.PREFET else Party.COLLECTIVITE


def _check_party(party: Party, actor: Actor, state: ContractState) -> None:
    if party is not _party_of(actor):
        raise ValidationRefused(
            f"party: a {actor.role.value} signs for {_party_of(actor).value}, not for {party.value}", field="party"
        )
    if party is Party.ETAT and not any(d in actor.scope for d in state.departements):
        raise OutOfScope(
            f"actor.scope: the État signs through the préfet of {', '.join(state.departements)}, not "
            f"{actor.identity!r} (scope {', '.join(actor.scope) or '—'}); a national scope reads and proposes, it "
            "does not sign",
            field="actor.scope",
        )


def _propose(
    command: ProposeContract, state: ContractState, policy: Policy, catalogue: TerritoryCatalogue
) -> list[Event]:
    if state.status is not Status.NONE:
        raise LifecycleViolation(
            f"contract_id: {command.contract_id} already exists ({state.status.value}); it cannot be proposed twice",
            field="contract_id",
            code="already_exists",
        )
    territory = catalogue.get(command.territory_id)
    if territory is None:
        raise UnknownTerritory(
            f"territory: {command.territory_id!r} is not a known territory (a métropole's SIREN, a département code "
            "such as D33, or an intercommunalité registered by an operator)",
            field="territory",
        )
    first, attempt = attempt_of(command.contract_id)
    if first != contract_id_for(territory.id):
        raise ValidationRefused(
            f"contract_id: the contract of {territory.id} is {contract_id_for(territory.id)}, not {command.contract_id}",
            field="contract_id",
        )
    if command.replaces is not None:
        earlier, earlier_attempt = attempt_of(command.replaces)
        if earlier != first or earlier_attempt >= attempt:
            raise ValidationRefused(
                f"replaces: {command.replaces} is not an earlier contract of {territory.id}", field="replaces"
            )
    if command.annual_ceiling <= 0:
        raise ValidationRefused("ceiling: the annual ceiling must be a positive amount", field="ceiling")
    earliest = policy.earliest_date_for(territory.kind)
    if not earliest <= business_date(command.at) <= policy.programme_end:
        raise DateViolation(
            f"occurred_at: a contract of a {territory.kind.value} is proposed between {earliest} (its instruction) "
            f"and the programme's end ({policy.programme_end})",
            field="occurred_at",
        )
    check_territory_scope(command.actor, territory)
    actions = {}
    for index, action in enumerate(command.draft_actions):
        if action.action_id in actions:
            raise ValidationRefused(
                f"draft_actions[{index}].action_id: {action.action_id} appears twice", field="draft_actions"
            )
        check_action(action, territory.axes, policy, f"draft_actions[{index}]")
        actions[action.action_id] = action
    check_ceiling(actions, command.annual_ceiling, policy, "draft_actions")
    base = _base(command)
    return [
        ContractProposed(
            **base,
            territory_id=territory.id,
            territory_name=territory.name,
            kind=territory.kind,
            region=territory.region,
            departements=territory.departements,
            annual_ceiling=command.annual_ceiling,
            replaces=command.replaces,
        ),
        *(ActionAdded(**base, action=action) for action in command.draft_actions),
    ]


def _add_action(command: AddAction, state: ContractState, policy: Policy) -> list[Event]:
    _require(state, WHEN["AddAction"], "add an action")
    action = command.action
    if action.action_id in state.actions:
        raise ValidationRefused(f"action.action_id: {action.action_id} already exists", field="action.action_id")
    if len(state.actions) >= MAX_ACTIONS:
        raise ValidationRefused(f"action: a contract holds at most {MAX_ACTIONS} fiches actions", field="action")
    check_action(action, state.axes, policy)
    check_ceiling({**state.actions, action.action_id: action}, state.annual_ceiling, policy, "action.amounts")
    return [ActionAdded(**_base(command), action=action)]


def _change_action(command: ChangeAction, state: ContractState, policy: Policy) -> list[Event]:
    _require(state, WHEN["ChangeAction"], "change an action (after the deliberation, amend the signed contract)")
    action = command.action
    if action.action_id not in state.actions:
        raise ValidationRefused(f"action.action_id: there is no action {action.action_id}", field="action.action_id")
    check_action(action, state.axes, policy)
    check_ceiling({**state.actions, action.action_id: action}, state.annual_ceiling, policy, "action.amounts")
    return [ActionChanged(**_base(command), action=action)]


def _remove_action(command: RemoveAction, state: ContractState, policy: Policy) -> list[Event]:
    _require(state, WHEN["RemoveAction"], "remove an action")
    if command.action_id not in state.actions:
        raise ValidationRefused(f"action_id: there is no action {command.action_id}", field="action_id")
    return [ActionRemoved(**_base(command), action_id=command.action_id)]


def _record_deliberation(command: RecordDeliberation, state: ContractState, policy: Policy) -> list[Event]:
    _require(state, WHEN["RecordDeliberation"], "record the deliberation")
    if not state.actions:
        raise ValidationRefused("actions: the assembly cannot vote on a contract without actions", field="actions")
    voted_on = command.deliberation.voted_on
    if voted_on > business_date(command.at):
        raise DateViolation(
            f"deliberation.voted_on: the vote of {voted_on} is after the date it is recorded as of "
            f"({business_date(command.at)}); a vote is recorded once it has happened",
            field="deliberation.voted_on",
        )
    if state.terms_changed_on is not None and voted_on < state.terms_changed_on:
        raise DateViolation(
            f"deliberation.voted_on: the assembly approves the text as it stood; it was last changed on "
            f"{state.terms_changed_on}, after the vote of {voted_on}",
            field="deliberation.voted_on",
        )
    return [DeliberationRecorded(**_base(command), deliberation=command.deliberation)]


def _sign(command: SignContract, state: ContractState, policy: Policy) -> list[Event]:
    if state.status in NEGOTIABLE_STATUSES:
        raise LifecycleViolation(
            "status: the contract cannot be signed before the collectivité's assembly has deliberated", field="status"
        )
    _require(state, WHEN["SignContract"], "sign the contract")
    _check_party(command.party, command.actor, state)
    if command.party in state.signatures:
        raise LifecycleViolation(f"party: {command.party.value} has already signed", field="party")
    if business_date(command.at) > policy.programme_end:
        raise DateViolation(f"occurred_at: the programme ended on {policy.programme_end}", field="occurred_at")
    assert state.deliberation is not None
    if business_date(command.at) < state.deliberation.voted_on:
        raise DateViolation(
            f"occurred_at: a signature on {business_date(command.at)} cannot precede the deliberation it needs "
            f"(voted on {state.deliberation.voted_on})",
            field="occurred_at",
        )
    check_axes_covered(state.actions, state.kind, state.axes, "when signed")  # type: ignore[arg-type]
    first = policy.year_opened_by(business_date(command.at))
    check_axes_funded(state.actions, state.kind, state.axes, range(first, policy.last_year + 1), "when signed")  # type: ignore[arg-type]
    base = _base(command)
    events: list[Event] = [PartySigned(**base, party=command.party, signatory=command.signatory)]
    if len(state.signatures) + 1 == len(Party):
        events += [
            ContractSigned(**base, in_force_from=policy.programme_start),
            ProgrammeYearOpened(**base, year=first),
        ]
    return events


def _record_review(command: RecordCommitteeReview, state: ContractState, policy: Policy) -> list[Event]:
    if state.status in NEGOTIABLE_STATUSES | {Status.DELIBERATED, Status.SIGNED}:
        raise LifecycleViolation(
            "status: no committee review before the contract is signed and in execution", field="status"
        )
    _require(state, WHEN["RecordCommitteeReview"], "record a committee review")
    assert state.current_year is not None
    if not state.year(command.year).opened or command.year > state.current_year:
        raise ValidationRefused(
            f"year: {command.year} is not an opened programme year (current year {state.current_year})", field="year"
        )
    if command.review_date.year != command.year or command.review_date > business_date(command.at):
        raise DateViolation(
            f"review_date: the review of {command.year} takes place in {command.year}, and not after the date it is "
            f"recorded as of ({business_date(command.at)})",
            field="review_date",
        )
    signed_on = max((business_date(s.signed_at) for s in state.signatures.values()), default=None)
    if signed_on is not None and command.review_date < signed_on:
        raise DateViolation(
            f"review_date: a committee reviews a signed contract; {command.review_date} is before the signature "
            f"({signed_on})",
            field="review_date",
        )
    if len(state.year(command.year).reviews) >= MAX_REVIEWS_PER_YEAR:
        raise ValidationRefused(
            f"year: {command.year} has {MAX_REVIEWS_PER_YEAR} committee reviews already, the most a year holds",
            field="year",
        )
    for action_id in {*command.indicator_values, *command.spending}:
        if action_id not in state.actions:
            raise ValidationRefused(f"spending: {action_id} is not an action of this contract", field="spending")
    for action_id, indicators in command.indicator_values.items():
        known = {i.code for i in state.actions[action_id].indicators}
        for code in indicators:
            if code not in known:
                raise ValidationRefused(
                    f"indicator_values: {action_id} has no indicator {code!r} ({', '.join(sorted(known))})",
                    field="indicator_values",
                )
    for action_id, spent in command.spending.items():
        amounts = state.actions[action_id].amounts.get(command.year)
        programmed = amounts.etat if amounts else 0
        if spent > programmed:
            raise ValidationRefused(
                f"spending: {action_id} reports {format_euros(spent)} of État credits spent in {command.year}, more than "
                f"the {format_euros(programmed)} programmed",
                field="spending",
            )
    review = CommitteeReview(
        year=command.year,
        review_date=command.review_date,
        indicator_values=command.indicator_values,
        spending=command.spending,
        findings=command.findings,
        decision=command.decision,
    )
    base = _base(command)
    events: list[Event] = [CommitteeReviewRecorded(**base, review=review)]
    if command.decision is Decision.SUSPEND and state.status is Status.IN_EXECUTION:
        events.append(ContractSuspended(**base, reason=f"committee review of {command.year}: {command.findings}"))
    return events


def _check_avenant(
    state: ContractState,
    year: int,
    amounts: dict[str, Any],
    policy: Policy,
    *,
    renewal: bool,
    terms: AvenantTerms | None = None,
) -> None:
    """An avenant as a whole: its amounts for ``year`` and its terms, on the contract as it would then be. The money
    of a year that has ended (or is reported) never moves: no action funded in it is removed, none of its amounts
    change. The ceiling, the 50/50 rule and the axes funded every year hold after it."""
    terms = terms or AvenantTerms()
    if not amounts and terms.empty:
        raise ValidationRefused(
            "amounts: an avenant changes something: amounts, the ceiling or the actions", field="amounts"
        )
    assert state.current_year is not None
    ended = [y for y in policy.years if y < state.current_year or state.year(y).report is not None]
    for action_id in terms.removed_actions:
        action = state.actions.get(action_id)
        if action is None:
            raise ValidationRefused(
                f"terms.removed_actions: there is no action {action_id}", field="terms.removed_actions"
            )
        spent_years = [y for y in ended if y in action.amounts and action.amounts[y].etat > 0]
        if spent_years:
            raise LifecycleViolation(
                f"terms.removed_actions: {action_id} was funded in {', '.join(map(str, spent_years))}, which is over; "
                "give it no money for the years to come instead",
                field="terms.removed_actions",
            )
    for index, action in enumerate(terms.changed_actions):
        old = state.actions.get(action.action_id)
        if old is None:
            raise ValidationRefused(
                f"terms.changed_actions[{index}]: there is no action {action.action_id}", field="terms.changed_actions"
            )
        check_action(action, state.axes, policy, f"terms.changed_actions[{index}]")
        if any(old.amounts.get(y) != action.amounts.get(y) for y in ended):
            raise LifecycleViolation(
                f"terms.changed_actions[{index}]: the amounts of a year that is over are frozen",
                field="terms.changed_actions",
            )
    for index, action in enumerate(terms.added_actions):
        if action.action_id in state.actions:
            raise ValidationRefused(
                f"terms.added_actions[{index}]: {action.action_id} already exists", field="terms.added_actions"
            )
        check_action(action, state.axes, policy, f"terms.added_actions[{index}]")
        if any(y in ended and a.etat > 0 for y, a in action.amounts.items()):
            raise LifecycleViolation(
                f"terms.added_actions[{index}]: a new action is funded from {state.current_year} on",
                field="terms.added_actions",
            )
    if terms.follows_review_of is not None:
        reviews = state.year(terms.follows_review_of).reviews
        if not any(r.decision is Decision.ADJUST for r in reviews):
            raise ValidationRefused(
                f"terms.follows_review_of: no committee review of {terms.follows_review_of} decided ADJUST",
                field="terms.follows_review_of",
            )
    structure, ceiling = avenant_effect(state.actions, state.annual_ceiling, year, {}, terms)
    if len(structure) > MAX_ACTIONS:
        raise ValidationRefused(
            f"terms.added_actions: a contract holds at most {MAX_ACTIONS} fiches actions", field="terms.added_actions"
        )
    check_amounts_for_year(structure, year, amounts, policy, "amounts", allow_empty=not terms.empty)
    after = apply_amounts(structure, year, amounts)
    check_ceiling(after, ceiling, policy, "amounts" if terms.annual_ceiling is None else "terms.annual_ceiling")
    check_axes_covered(after, state.kind, state.axes, "after this avenant")  # type: ignore[arg-type]
    when = f"when renewed for {year}" if renewal else f"after this amendment of {year}"
    running = range(max(year if renewal else state.current_year, policy.first_year), policy.last_year + 1)
    check_axes_funded(after, state.kind, state.axes, running if not renewal else (year,), when)  # type: ignore[arg-type]


def _check_room_for_avenant(state: ContractState) -> None:
    if len(state.avenants) >= MAX_AVENANTS:
        raise ValidationRefused(f"amendment_id: a contract holds at most {MAX_AVENANTS} avenants", field="amendment_id")


def _renew(command: Renew, state: ContractState, policy: Policy) -> list[Event]:
    if state.status is Status.SUSPENDED:
        raise LifecycleViolation("status: a suspended contract is resumed before it is renewed", field="status")
    _require(state, WHEN["Renew"], "renew the contract")
    assert state.current_year is not None
    if command.year != state.current_year + 1 or command.year > policy.last_year:
        raise ValidationRefused(
            f"year: the renewal is for the year after the current one ({state.current_year + 1}), within "
            f"{policy.first_year}–{policy.last_year}; not {command.year}",
            field="year",
        )
    if not state.year(state.current_year).reviews:
        raise LifecycleViolation(
            f"year: no renewal for {command.year} before the committee has reviewed {state.current_year}", field="year"
        )
    avenant_id = f"renewal-{command.year}"
    _check_room_for_avenant(state)
    if avenant_id in state.avenants:
        raise LifecycleViolation(f"year: a renewal for {command.year} is already proposed", field="year")
    _check_avenant(state, command.year, command.amounts, policy, renewal=True)
    return [
        AvenantProposed(
            **_base(command),
            avenant_id=avenant_id,
            kind=AvenantKind.RENEWAL,
            year=command.year,
            amounts=command.amounts,
            reason=f"renouvellement pour {command.year}",
        )
    ]


def _amend(command: Amend, state: ContractState, policy: Policy) -> list[Event]:
    _require(state, WHEN["Amend"], "amend the contract")
    assert state.current_year is not None
    if not state.current_year <= command.year <= policy.last_year:
        raise ValidationRefused(
            f"year: an amendment concerns the current year or a later one ({state.current_year}–{policy.last_year})",
            field="year",
        )
    if command.amendment_id in state.avenants:
        raise ValidationRefused(f"amendment_id: {command.amendment_id} is already used", field="amendment_id")
    _check_room_for_avenant(state)
    if state.year(command.year).report is not None:
        raise LifecycleViolation(
            f"year: the execution report of {command.year} is in; its money is frozen", field="year"
        )
    _check_avenant(state, command.year, command.amounts, policy, renewal=False, terms=command.terms)
    base = _base(command)
    events: list[Event] = [
        AvenantProposed(
            **base,
            avenant_id=command.amendment_id,
            kind=AvenantKind.AMENDMENT,
            year=command.year,
            amounts=command.amounts,
            reason=command.reason,
            terms=command.terms,
        )
    ]
    if not policy.amendment_requires_both_parties:
        events.append(AvenantConcluded(**base, avenant_id=command.amendment_id))
    return events


def _sign_avenant(command: SignAvenant, state: ContractState, policy: Policy) -> list[Event]:
    _require(state, WHEN["SignAvenant"], "sign an avenant")
    avenant: Avenant | None = state.avenants.get(command.avenant_id)
    if avenant is None:
        raise ValidationRefused(f"avenant_id: there is no avenant {command.avenant_id}", field="avenant_id")
    _check_party(command.party, command.actor, state)
    if avenant.concluded:
        raise LifecycleViolation(f"avenant_id: {command.avenant_id} is already concluded", field="avenant_id")
    if command.party in avenant.signatures:
        raise LifecycleViolation(f"party: {command.party.value} has already signed {command.avenant_id}", field="party")
    if avenant.kind is AvenantKind.RENEWAL and state.current_year is not None and avenant.year <= state.current_year:
        raise LifecycleViolation(
            f"avenant_id: the renewal for {avenant.year} was not signed before that year opened", field="avenant_id"
        )
    if state.year(avenant.year).report is not None or business_date(command.at) > date(avenant.year, 12, 31):
        raise LifecycleViolation(
            f"avenant_id: {command.avenant_id} changes the amounts of {avenant.year}, which is over or reported; a "
            "year's money is frozen once it has ended",
            field="avenant_id",
        )
    base = _base(command)
    events: list[Event] = [AvenantSigned(**base, avenant_id=command.avenant_id, party=command.party)]
    if len(avenant.signatures) + 1 == len(Party):
        # Re-checked at conclusion: other changes may have been made since the avenant was proposed.
        _check_avenant(
            state,
            avenant.year,
            avenant.amounts,
            policy,
            renewal=avenant.kind is AvenantKind.RENEWAL,
            terms=avenant.terms,
        )
        events.append(AvenantConcluded(**base, avenant_id=command.avenant_id))
    return events


def _check_report_amounts(
    state: ContractState, year: int, etat_spent: dict[str, int], collectivite_spent: dict[str, int]
) -> None:
    for field, spent in (("etat_spent", etat_spent), ("collectivite_spent", collectivite_spent)):
        for action_id in spent:
            if action_id not in state.actions:
                raise ValidationRefused(f"{field}: {action_id} is not an action of this contract", field=field)
    for action_id, spent_etat in etat_spent.items():
        amounts = state.actions[action_id].amounts.get(year)
        programmed = amounts.etat if amounts else 0
        if spent_etat > programmed:
            raise ValidationRefused(
                f"etat_spent: {action_id} cannot have spent {format_euros(spent_etat)} of État credits in "
                f"{year}: {format_euros(programmed)} were programmed",
                field="etat_spent",
            )


def _submit_report(command: SubmitExecutionReport, state: ContractState, policy: Policy) -> list[Event]:
    _require(state, WHEN["SubmitExecutionReport"], "submit an execution report")
    assert state.current_year is not None
    ended = command.year < state.current_year or (state.status is Status.CLOSING and command.year == policy.last_year)
    if not state.year(command.year).opened and command.year >= state.current_year:
        ended = False
    if not ended or business_date(command.at) <= date(command.year, 12, 31):
        raise LifecycleViolation(
            f"year: the execution report of {command.year} is submitted once that year is over", field="year"
        )
    if command.year not in policy.years:
        raise DateViolation(f"year: {command.year} is outside the programme", field="year")
    if not state.year(command.year).opened:
        raise LifecycleViolation(
            f"year: {command.year} never ran under this contract (the État funded it from "
            f"{state.first_year or '—'}); no report and no réfaction for it",
            field="year",
        )
    if state.year(command.year).report is not None:
        raise LifecycleViolation(f"year: the execution report of {command.year} is already submitted", field="year")
    _check_report_amounts(state, command.year, command.etat_spent, command.collectivite_spent)
    recoverable = recoverable_for_year(state.actions, command.year, command.etat_spent, command.collectivite_spent)
    base = _base(command)
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


def _record_mid_term(command: RecordMidTermEvaluation, state: ContractState, policy: Policy) -> list[Event]:
    _require(state, WHEN["RecordMidTermEvaluation"], "record the mid-term evaluation")
    if business_date(command.at) < policy.mid_term_evaluation_opens:
        raise DateViolation(
            f"occurred_at: the mid-term evaluation is made from {policy.mid_term_evaluation_opens}, not on "
            f"{business_date(command.at)}",
            field="occurred_at",
        )
    if state.mid_term_evaluation is not None:
        raise LifecycleViolation("evaluations: the mid-term evaluation is already recorded", field="evaluations")
    missing = sorted(set(state.actions) - set(command.evaluations))
    unknown = sorted(set(command.evaluations) - set(state.actions))
    if missing or unknown:
        raise ValidationRefused(
            "evaluations: every action is evaluated, and only those"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
            field="evaluations",
        )
    if any(not text.strip() for text in command.evaluations.values()):
        raise ValidationRefused("evaluations: an evaluation cannot be empty", field="evaluations")
    return [MidTermEvaluationRecorded(**_base(command), evaluations=command.evaluations)]


def _suspend(command: Suspend, state: ContractState, policy: Policy) -> list[Event]:
    _require(state, WHEN["Suspend"], "suspend the contract")
    return [ContractSuspended(**_base(command), reason=command.reason)]


def _resume(command: Resume, state: ContractState, policy: Policy) -> list[Event]:
    _require(state, WHEN["Resume"], "resume the contract")
    return [ContractResumed(**_base(command), reason=command.reason)]


def _terminate(command: Terminate, state: ContractState, policy: Policy) -> list[Event]:
    """Résiliation settles the years run: what was used, what is owed back (see balance.closing_balance)."""
    balance = closing_balance(state, policy, settlement=True)
    return [
        ContractTerminated(**_base(command), reason=command.reason, party=_party_of(command.actor), balance=balance)
    ]


def _begin_closing(command: BeginClosing, state: ContractState, policy: Policy) -> list[Event]:
    _require(state, WHEN["BeginClosing"], "begin closing")
    if business_date(command.at) <= policy.programme_end:
        raise DateViolation(
            f"occurred_at: closing begins after the programme's end ({policy.programme_end})", field="occurred_at"
        )
    return [ClosingBegun(**_base(command))]


def _close(command: CloseContract, state: ContractState, policy: Policy) -> list[Event]:
    _require(state, WHEN["CloseContract"], "close the contract")
    missing = [
        y for y in policy.years if state.year(y).opened and state.etat_total(y) > 0 and state.year(y).report is None
    ]
    if missing:
        raise LifecycleViolation(
            f"reports: the execution reports of {', '.join(map(str, missing))} are still missing", field="reports"
        )
    balance = closing_balance(state, policy)
    if command.declared_reversement is not None and command.declared_reversement != balance.reversement:
        raise ValidationRefused(
            f"declared_reversement: {format_euros(command.declared_reversement)} declared, but the balance gives "
            f"{format_euros(balance.reversement)} to reimburse",
            field="declared_reversement",
            code="balance_mismatch",
        )
    return [ContractClosed(**_base(command), balance=balance)]


def _open_year(command: OpenProgrammeYear, state: ContractState, policy: Policy) -> list[Event]:
    _require(state, WHEN["OpenProgrammeYear"], "open a programme year")
    assert state.current_year is not None
    if command.year != state.current_year + 1 or command.year > policy.last_year:
        raise ValidationRefused(
            f"year: the next programme year is {state.current_year + 1}, not {command.year}", field="year"
        )
    if business_date(command.at) < date(command.year, 1, 1):
        raise DateViolation(
            f"occurred_at: {command.year} cannot be opened before 1 January {command.year}", field="occurred_at"
        )
    return [ProgrammeYearOpened(**_base(command), year=command.year)]


def _record_missed(command: RecordMissedDeadline, state: ContractState, policy: Policy) -> list[Event]:
    if any(m.deadline == command.deadline and m.year == command.year for m in state.missed_deadlines):
        raise LifecycleViolation(
            f"deadline: the missed {command.deadline} deadline of {command.year} is already recorded", field="deadline"
        )
    if business_date(command.at) <= command.due:
        raise DateViolation(f"due: {command.due} is not past yet", field="due")
    # Decided from the state and the policy, never from the command's say-so.
    owed = [d for d in pending_deadlines(state, policy) if d.kind.value == command.deadline and d.year == command.year]
    if not owed or owed[0].due != command.due:
        raise ValidationRefused(
            f"deadline: no {command.deadline} obligation of {command.year or 'the contract'} due on {command.due} "
            "is pending",
            field="deadline",
        )
    return [DeadlineMissed(**_base(command), deadline=command.deadline, year=command.year, due=command.due)]


def _rectify_report(command: RectifyExecutionReport, state: ContractState, policy: Policy) -> list[Event]:
    """A report's figures corrected, decided by the same rules as the report; the réfaction follows. Not once the
    contract is closed: its balance is final (a closed contract changes by no fact)."""
    _require(state, WHEN["RectifyExecutionReport"], "rectify an execution report")
    record = state.year(command.year)
    if record.report is None:
        raise ValidationRefused(f"year: there is no execution report of {command.year} to rectify", field="year")
    following = state.year(command.year + 1)
    if following.report is not None:
        raise LifecycleViolation(
            f"year: the report of {command.year + 1} is in, and it was settled with the réfaction from "
            f"{command.year}'s report; {command.year} can no longer be rectified",
            field="year",
        )
    _check_report_amounts(state, command.year, command.etat_spent, command.collectivite_spent)
    recoverable = recoverable_for_year(state.actions, command.year, command.etat_spent, command.collectivite_spent)
    delta = recoverable - record.recoverable_etat if command.year < policy.last_year else 0
    report = ExecutionReport(
        year=command.year,
        etat_spent=command.etat_spent,
        collectivite_spent=command.collectivite_spent,
        submitted_at=record.report.submitted_at,
    )
    if report == record.report:
        raise ValidationRefused("etat_spent: the rectified report is the same as the one recorded", field="etat_spent")
    return [
        ExecutionReportRectified(
            **_base(command),
            rectifies_version=record.report_version,
            report=report,
            recoverable_etat=recoverable,
            refaction_delta=delta,
            reason=command.reason,
        )
    ]


def _rectify_signature(command: RectifySignature, state: ContractState, policy: Policy) -> list[Event]:
    """A signature's date corrected by its own party. The date must fit the facts around it: after the
    deliberation, not after the date it is corrected on, and the first year opened stays the year signed in."""
    _check_party(command.party, command.actor, state)
    signature = state.signatures.get(command.party)
    if signature is None:
        raise ValidationRefused(f"party: {command.party.value} has not signed; nothing to rectify", field="party")
    if command.signed_on > business_date(command.at):
        raise DateViolation(f"signed_on: {command.signed_on} is in the future", field="signed_on")
    if state.deliberation is not None and command.signed_on < state.deliberation.voted_on:
        raise DateViolation(
            f"signed_on: a signature on {command.signed_on} cannot precede the deliberation "
            f"(voted on {state.deliberation.voted_on})",
            field="signed_on",
        )
    if command.signed_on == business_date(signature.signed_at):
        raise ValidationRefused(f"signed_on: the signature is already dated {command.signed_on}", field="signed_on")
    first_year = state.first_year
    if len(state.signatures) == 2 and first_year is not None:
        others = [business_date(s.signed_at) for p, s in state.signatures.items() if p is not command.party]
        if policy.year_opened_by(max([command.signed_on, *others])) != first_year:
            raise LifecycleViolation(
                f"signed_on: the contract's first programme year ({first_year}) was opened by its signature; a "
                f"signature on {command.signed_on} would change it, which a rectification cannot do",
                field="signed_on",
            )
    events: list[Event] = [
        SignatureRectified(
            **_base(command),
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
            events.append(DeadlineMissed(**_base(command), deadline=DeadlineKind.SIGNATURE.value, year=None, due=due))
    return events


_HANDLERS: dict[str, Callable[[Any, ContractState, Policy], list[Event]]] = {
    "AddAction": _add_action,
    "ChangeAction": _change_action,
    "RemoveAction": _remove_action,
    "RecordDeliberation": _record_deliberation,
    "SignContract": _sign,
    "RecordCommitteeReview": _record_review,
    "Renew": _renew,
    "Amend": _amend,
    "SignAvenant": _sign_avenant,
    "SubmitExecutionReport": _submit_report,
    "RecordMidTermEvaluation": _record_mid_term,
    "Suspend": _suspend,
    "Resume": _resume,
    "Terminate": _terminate,
    "BeginClosing": _begin_closing,
    "CloseContract": _close,
    "OpenProgrammeYear": _open_year,
    "RecordMissedDeadline": _record_missed,
    "RectifyExecutionReport": _rectify_report,
    "RectifySignature": _rectify_signature,
}

__all__ = ["DomainError", "decide"]
