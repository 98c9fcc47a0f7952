"""How a command's rules are declared: once, on its handler, with the roles that may send it and the stages it needs.

    @rule(SubmitExecutionReport, roles={Role.COLLECTIVITE}, stages=RUNNING_STATUSES | {Status.CLOSING},
          doing="submit an execution report")
    def submit_report(command: SubmitExecutionReport, state: ContractState, policy: Policy) -> list[Event]: ...

The decider checks the role and the stage from the declaration before the handler runs; the tables the service and
the web interface read (who may send a command, when it is offered) are built from the declarations
(domain/rules/__init__.py), so a command's rules are never spread over tables keyed by its name.

A rule changed during the programme keeps its earlier version: the new handler is declared beside it with the dated
change that brings it (a `PolicyChange` of domain/policy.py), and a fact is decided by the version in force on its
business date:

    @amends(SubmitExecutionReport, change="report-annexes-2026")
    def submit_report_2026(command: SubmitExecutionReport, state: ContractState, policy: Policy) -> list[Event]: ...

Who may send a command and at which stages stay those of its first declaration (the service layer and the web
interface read them without a date).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, TypeVar

from domain.actors import Role
from domain.errors import LifecycleViolation
from domain.events import Event
from domain.messages import CommandBase
from domain.policy import Policy
from domain.status import Status

Handler = Callable[..., list[Event]]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class Rule:
    """One command's rules: who may send it, at which stages, and the handler that decides its facts."""

    command: str  # the command's type
    roles: frozenset[Role]
    handler: Handler
    # The stages at which it is possible (what the web interface offers); None: never offered to people, its handler
    # decides alone (a proposal, a missed deadline).
    stages: frozenset[Status] | None = None
    doing: str = ""  # what the refusal says the actor cannot do ("submit an execution report")
    # Whether the decider refuses the command outside ``stages``. Off where the handler's own rules say it better
    # (a signature to rectify exists only once signed; résiliation ends any live contract).
    enforce_stages: bool = True
    # Stages refused with a sentence of their own, checked first ("a suspended contract is resumed before ...").
    refused: tuple[tuple[frozenset[Status], str], ...] = ()
    # Later versions of the handler, each with the id of the dated change that brings it, in declaration order.
    versions: tuple[tuple[str, Handler], ...] = ()

    def handler_on(self, policy: Policy, day: date) -> Handler:
        """The handler in force on ``day``: the last version whose change is in force then, else the first."""
        in_force = policy.in_force(day)
        return next((h for change, h in reversed(self.versions) if change in in_force), self.handler)

    def check_stage(self, status: Status) -> None:
        for statuses, sentence in self.refused:
            if status in statuses:
                raise LifecycleViolation(
                    f"status: {sentence}", field="status", rule="stage.not_now", params={"status": status.value}
                )
        if self.enforce_stages and self.stages is not None and status not in self.stages:
            expected = ", ".join(sorted(s.value for s in self.stages))
            raise LifecycleViolation(
                f"status: cannot {self.doing} while the contract is {status.value} (possible when {expected})",
                field="status",
                rule="stage.not_now",
                params={"status": status.value},
            )


# Filled by the @rule declarations as the modules of domain/rules load (domain/rules/__init__.py loads them all).
RULES: dict[str, Rule] = {}


def command_type(command: type[CommandBase]) -> str:
    default: Any = command.model_fields["type"].default
    assert isinstance(default, str), f"{command.__name__} has no type literal"
    return default


def rule(
    command: type[CommandBase],
    *,
    roles: Iterable[Role],
    stages: Iterable[Status] | None = None,
    doing: str = "",
    enforce_stages: bool = True,
    refused: Iterable[tuple[Iterable[Status], str]] = (),
) -> Callable[[H], H]:
    """Declare ``command``'s rules on its handler. A command has one declaration: a second one is an error."""
    kind = command_type(command)

    def declare(handler: H) -> H:
        if kind in RULES:
            raise ValueError(
                f"{kind}'s rules are declared twice: {RULES[kind].handler.__qualname__}, {handler.__qualname__}"
            )
        RULES[kind] = Rule(
            command=kind,
            roles=frozenset(roles),
            handler=handler,
            stages=None if stages is None else frozenset(stages),
            doing=doing,
            enforce_stages=enforce_stages,
            refused=tuple((frozenset(s), sentence) for s, sentence in refused),
        )
        return handler

    return declare


def amends(command: type[CommandBase], *, change: str) -> Callable[[H], H]:
    """Declare a later version of ``command``'s handler, in force from the date of the policy change ``change``."""
    kind = command_type(command)

    def declare(handler: H) -> H:
        if kind not in RULES:
            raise ValueError(f"{kind} is amended before its rules are declared")
        declared = RULES[kind]
        if any(c == change for c, _ in declared.versions):
            raise ValueError(f"{kind} is amended twice by {change}")
        RULES[kind] = replace(declared, versions=(*declared.versions, (change, handler)))
        return handler

    return declare
