"""decide(command, state, policy) -> events: the decider's one entry point. It never reads a clock.

The rules themselves are declared by phase of the contract in domain/rules (each command's handler with its roles and
stages); facts recorded late are domain/late_facts.py's. Here: what holds for every command — its idempotency, its
role, its contract and stage, its scope and its date — then its handler, then the deadlines it met in time withdrawn.

A refusal raises a DomainError whose code is stable and whose sentence names the field and the rule; a refused
command yields no event at all. A repeated request id yields no new event.

The decider's shape, in one place: ``decide`` (here), ``evolve`` (domain/evolve.py), ``INITIAL_STATE`` and the
terminal states ``FINAL_STATUSES`` (domain/state.py, domain/status.py).
"""

from __future__ import annotations

from domain import late_facts
from domain.actors import Role
from domain.authorization import check_role, check_scope
from domain.business_time import business_date
from domain.calendar import calendar_until
from domain.commands import Command, ProposeContract
from domain.errors import (
    DateViolation,
    DomainError,
    IdempotencyKeyReused,
    LifecycleViolation,
    ValidationRefused,
    together,
)
from domain.events import Event
from domain.evolve import fold, fold_fact
from domain.limits import MAX_FACTS
from domain.policy import Policy
from domain.request_log import key_of
from domain.rules import RULES, handle
from domain.state import FINAL_STATUSES, ContractState, Status
from domain.territories import TerritoryCatalogue

_CATALOGUE = TerritoryCatalogue()


def decide(
    command: Command,
    state: ContractState,
    policy: Policy,
    catalogue: TerritoryCatalogue = _CATALOGUE,
) -> list[Event]:
    """Return the events the command causes, or raise a DomainError. Pure: same inputs, same events.

    The command is judged by the rules in force on its business date (``policy.in_force_on``): a 2025 fact typed in
    2027, or imported, is judged as in 2025."""
    undated = policy
    policy = policy.in_force_on(business_date(command.at))
    if command.request_id in state.request_ids:
        return []  # a repeated request yields no new event
    check_role(command.type, command.actor)
    if state.request_ids.key_reused(command.request_id):
        raise IdempotencyKeyReused(
            f"request_id: the idempotency key {(key_of(command.request_id) or '')[:60]!r} was already used for a different request on "
            f"{state.contract_id}; a retry must repeat the same command, a new command needs a new key",
            field="request_id",
            rule="request.key_reused",
        )
    try:
        _check_not_in_future(command, policy)
    except DateViolation as error:
        assert command.entered_at is not None
        raise _with_the_rest(
            error, command.model_copy(update={"at": command.entered_at}), state, undated, catalogue
        ) from None
    if isinstance(command, ProposeContract):
        proposal = RULES[command.type].handler_on(policy, business_date(command.at))  # negotiation.propose
        return proposal(command, state, policy, catalogue)
    if state.status is Status.NONE:
        raise LifecycleViolation(
            f"contract_id: there is no contract {command.contract_id}; the préfet proposes it first",
            field="contract_id",
            code="not_found",
            rule="contract.not_proposed",
        )
    if command.contract_id != state.contract_id:
        raise ValidationRefused(
            f"contract_id: this is {state.contract_id}, not {command.contract_id}",
            field="contract_id",
            rule="contract.mismatch",
        )
    if state.status in FINAL_STATUSES:
        raise LifecycleViolation(
            f"status: {state.contract_id} is {state.status.value}; nothing can be done after closing or termination",
            field="status",
            rule="contract.ended",
            params={"status": state.status.value},
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
            rule="date.before_programme",
            params={"date": str(business_date(command.at)), "earliest_date": str(earliest)},
        )
    brought: list[Event] = []
    if policy.order_rules >= 2 and command.actor.role is not Role.SYSTEM:
        brought, state = _calendar_by(command, state, undated, catalogue)
    late = state.last_at is not None and command.at < state.last_at
    if late and late_facts.may_precede_calendar(state, command.at):
        events = late_facts.decide_late(command, state, policy, handle, fold_fact)
    else:
        if late:
            assert state.last_at is not None
            if (state.last_at - command.at).total_seconds() > policy.clock_skew_tolerance_s:
                # The bound quoted is the one applied: the last people's fact when only the calendar's came after it
                # (a user walk was told "before 1 April", a missed deadline, and 20 January passed a moment later).
                bound = late_facts.earliest_moment(state) or state.last_at
                refused = DateViolation(
                    f"occurred_at: {command.at.isoformat()} is before the contract's last recorded fact "
                    f"({bound.isoformat()}); facts are recorded in the order they happened (a fact "
                    "recorded late may only precede the calendar's own facts: year openings, missed deadlines), and "
                    "a wrong fact is rectified",
                    field="occurred_at",
                    rule="date.before_last_fact",
                    params={"date": str(business_date(command.at)), "last_date": str(business_date(bound))},
                )
                redated = command.model_copy(update={"at": state.last_at})
                raise _with_the_rest(refused, redated, state, undated, catalogue)
            command = command.model_copy(update={"at": state.last_at})  # keep each stream's business time monotone
        events = handle(command, state, policy)
    _check_size(command, state, events)
    return brought + events + late_facts.withdrawals(command, fold(events, state), policy)


def _with_the_rest(
    error: DomainError, redated: Command, state: ContractState, policy: Policy, catalogue: TerritoryCatalogue
) -> DomainError:
    """A fact's date refused, with what else the command would be refused for: the command judged again as if dated
    when it may be (``redated``), its refusals that are not about its date (or about who may act) joining the date's —
    an amount and a date both wrong are said at once. Nothing is decided by it: the command is refused either way."""
    try:
        decide(redated, state, policy, catalogue)
    except DomainError as other:
        rest = [e for e in other.all if e.field != "occurred_at" and e.code not in ("forbidden", "out_of_scope")]
        return together([error, *rest])
    return error


def _calendar_by(
    command: Command, state: ContractState, policy: Policy, catalogue: TerritoryCatalogue
) -> tuple[list[Event], ContractState]:
    """The calendar's facts due by the command's business date that its timers have not recorded yet (a worker down
    over New Year, a command the day after a deadline before that deadline's timer fired), decided first, each by the
    rules of its own date: the command is judged on the state its date had — the year it falls in opened, the
    deadlines it comes after missed — as it would be typed on time after the timers, and as an import decides it.
    The same function (``calendar_until``) serves the workflow's timers and the import. A fact recorded late (dated
    before the calendar's last facts) brings nothing: there is nothing due by its date left."""
    if state.last_at is None or command.at < state.last_at:
        return [], state

    def decide_one(fact: Command, current: ContractState) -> list[Event]:
        return decide(fact, current, policy, catalogue)

    return calendar_until(state, policy, command.at, decide_one)


def _check_size(command: Command, state: ContractState, events: list[Event]) -> None:
    """A contract's stream (and the request log its state keeps) stays bounded; the calendar always has room."""
    if command.actor.role is not Role.SYSTEM and state.version + len(events) > MAX_FACTS - 100:
        raise ValidationRefused(
            f"contract_id: {state.contract_id} holds {state.version} facts, the most one contract may hold is "
            f"{MAX_FACTS}; ask the administrators",
            field="contract_id",
            code="contract_full",
            rule="contract.full",
            params={"limit": MAX_FACTS},
        )


def _check_not_in_future(command: Command, policy: Policy) -> None:
    if command.entered_at is None:
        return
    if (command.at - command.entered_at).total_seconds() > policy.clock_skew_tolerance_s:
        raise DateViolation(
            f"occurred_at: {command.at.isoformat()} is in the future (now: {command.entered_at.isoformat()}); a fact "
            "is recorded once it has happened",
            field="occurred_at",
            rule="date.in_future",
            params={"date": str(business_date(command.at))},
        )


__all__ = ["DomainError", "decide"]
