"""How a contract ends: résiliation at any live stage, or closing after the programme with its final balance."""

from __future__ import annotations

from domain.actors import Role
from domain.balance import closing_balance
from domain.business_time import business_date
from domain.commands import (
    BeginClosing,
    CloseContract,
    Terminate,
)
from domain.deadlines import missing_reports
from domain.errors import (
    DateViolation,
    LifecycleViolation,
    ValidationRefused,
)
from domain.events import (
    ClosingBegun,
    ContractClosed,
    ContractTerminated,
    Event,
)
from domain.messages import event_fields
from domain.money import format_euros
from domain.policy import Policy
from domain.rules.declaration import rule
from domain.rules.parties import check_party, party_of
from domain.state import ContractState
from domain.status import LIVE_STATUSES, RUNNING_STATUSES, Status


@rule(
    Terminate,
    roles={Role.PREFET, Role.COLLECTIVITE},
    stages=LIVE_STATUSES,
    doing="terminate the contract",
    enforce_stages=False,  # résiliation ends any live contract: decide has refused the others already
)
def terminate(command: Terminate, state: ContractState, policy: Policy) -> list[Event]:
    """Résiliation settles the years run: what was used, what is owed back (see balance.closing_balance)."""
    if policy.order_rules >= 2:  # a party ends it: the État through the préfet of the territory, never a national scope
        check_party(party_of(command.actor), command.actor, state)
    balance = closing_balance(state, policy, settlement=True)
    return [
        ContractTerminated(
            **event_fields(command), reason=command.reason, party=party_of(command.actor), balance=balance
        )
    ]


@rule(BeginClosing, roles={Role.SYSTEM}, stages=RUNNING_STATUSES, doing="begin closing")
def begin_closing(command: BeginClosing, state: ContractState, policy: Policy) -> list[Event]:
    if business_date(command.at) <= policy.programme_end:
        raise DateViolation(
            f"occurred_at: closing begins after the programme's end ({policy.programme_end})",
            field="occurred_at",
            rule="closing.before_end",
            params={"end_date": str(policy.programme_end)},
        )
    return [ClosingBegun(**event_fields(command))]


@rule(CloseContract, roles={Role.PREFET}, stages={Status.CLOSING}, doing="close the contract")
def close(command: CloseContract, state: ContractState, policy: Policy) -> list[Event]:
    if policy.order_rules >= 2:  # closed for the État by the préfet of the territory (issue 24)
        check_party(party_of(command.actor), command.actor, state)
    missing = missing_reports(state, policy)
    if missing:
        raise LifecycleViolation(
            f"reports: the execution reports of {', '.join(map(str, missing))} are still missing",
            field="reports",
            rule="closing.reports_missing",
            params={"years": ", ".join(map(str, missing))},
        )
    balance = closing_balance(state, policy)
    if command.declared_reversement is not None and command.declared_reversement != balance.reversement:
        raise ValidationRefused(
            f"declared_reversement: {format_euros(command.declared_reversement)} declared, but the balance gives "
            f"{format_euros(balance.reversement)} to reimburse",
            field="declared_reversement",
            code="balance_mismatch",
            rule="closing.balance_mismatch",
            params={"declared_cents": command.declared_reversement, "balance_cents": balance.reversement},
        )
    return [ContractClosed(**event_fields(command), balance=balance)]
