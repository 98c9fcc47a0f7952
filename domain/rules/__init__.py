"""The decider's rules, by phase of the contract: each command's handler declared with its roles and its stages.

    negotiation.py      proposal, fiches actions, deliberation, signatures
    execution.py        programme years, committee reviews, execution reports, mid-term evaluation, suspension,
                        missed deadlines
    avenants.py         renewals, amendments and their signatures
    ending.py           résiliation, closing
    rectifications.py   a report's figures, a signature's date
    money_trail.py      the État's envelope, commitments (Chorus EJ) and payments of each programme year

A command's rules are declared in one place (`declaration.rule`, on its handler); the tables others read are built
here from those declarations: ``ALLOWED_ROLES`` (who may send it: the service layer and the decider), ``WHEN`` (the
stages at which it is offered: the web interface) and ``RULES`` itself (the handlers: the decider). Facts recorded
late are judged by the same handlers (domain/late_facts.py); decide itself is domain/decider.py.
"""

from __future__ import annotations

from domain.actors import Role
from domain.business_time import business_date
from domain.commands import Command
from domain.events import Event
from domain.policy import Policy
from domain.rules import avenants, ending, execution, money_trail, negotiation, rectifications
from domain.rules.declaration import RULES, Rule
from domain.state import ContractState
from domain.status import Status

PHASES = (negotiation, execution, avenants, ending, rectifications, money_trail)

# Command type -> roles allowed to send it.
ALLOWED_ROLES: dict[str, frozenset[Role]] = {kind: r.roles for kind, r in RULES.items()}
# Command type -> the stages of a contract at which it may be sent (commands never offered to people have none).
WHEN: dict[str, frozenset[Status]] = {kind: r.stages for kind, r in RULES.items() if r.stages is not None}


def handle(command: Command, state: ContractState, policy: Policy) -> list[Event]:
    """The command's stage checked against its declaration, then its handler in force on the command's business date:
    the facts it causes, or a DomainError. (The proposal, which also reads the territories' catalogue, is decided by
    negotiation.propose.)"""
    declared = RULES[command.type]
    declared.check_stage(state.status)
    return declared.handler_on(policy, business_date(command.at))(command, state, policy)


__all__ = ["ALLOWED_ROLES", "PHASES", "RULES", "WHEN", "Rule", "handle"]
