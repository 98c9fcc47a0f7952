"""decide(command, state, policy) -> events: every business rule lives here. It never reads a clock."""

from __future__ import annotations

from domain.actors import Actor, Role
from domain.commands import Command, ProposeContract
from domain.errors import (
    DomainError,
    Forbidden,
    LifecycleViolation,
    OutOfScope,
    UnknownTerritory,
    ValidationRefused,
)
from domain.events import ContractProposed, Event
from domain.policy import Policy
from domain.state import ContractState, Status
from domain.territories import Territory, TerritoryCatalogue, contract_id_for

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
    if command.actor.role is Role.AUDITOR:
        raise Forbidden("actor.role: an auditor reads and verifies; an auditor changes nothing", field="actor.role")
    match command:
        case ProposeContract():
            return _propose(command, state, policy, catalogue)
    raise DomainError(f"type: unknown command {command.type!r}", field="type")  # pragma: no cover


def _base(command: Command) -> dict[str, object]:
    return {
        "contract_id": command.contract_id,
        "actor": command.actor,
        "request_id": command.request_id,
        "occurred_at": command.at,
    }


def _check_prefet_scope(actor: Actor, territory: Territory) -> None:
    if not any(actor.covers(dep) for dep in territory.departements):
        raise OutOfScope(
            f"actor.scope: préfet {actor.identity!r} acts for départements {list(actor.scope)}, "
            f"not for {territory.name} ({', '.join(territory.departements)})",
            field="actor.scope",
        )


def _propose(
    command: ProposeContract, state: ContractState, policy: Policy, catalogue: TerritoryCatalogue
) -> list[Event]:
    if state.status is not Status.NONE:
        raise LifecycleViolation(
            f"contract_id: {command.contract_id} already exists (status {state.status}); it cannot be proposed twice",
            field="contract_id",
            code="already_exists",
        )
    if command.actor.role is not Role.PREFET:
        raise Forbidden(
            f"actor.role: only a préfet proposes a contract, not a {command.actor.role}", field="actor.role"
        )
    territory = catalogue.get(command.territory_id)
    if territory is None:
        raise UnknownTerritory(
            f"territory: {command.territory_id!r} is not a known territory (a métropole's SIREN, a département "
            "code such as D33, or an intercommunalité registered by an operator)",
            field="territory",
        )
    if command.contract_id != contract_id_for(territory.id):
        raise ValidationRefused(
            f"contract_id: the contract of {territory.id} is {contract_id_for(territory.id)}, "
            f"not {command.contract_id}",
            field="contract_id",
        )
    if command.annual_ceiling <= 0:
        raise ValidationRefused("ceiling: the annual ceiling must be a positive amount", field="ceiling")
    if command.at.date() > policy.programme_end:
        raise ValidationRefused(
            f"at: a contract cannot be proposed after the programme's end ({policy.programme_end})",
            field="at",
        )
    _check_prefet_scope(command.actor, territory)
    return [
        ContractProposed(
            **_base(command),
            territory_id=territory.id,
            territory_name=territory.name,
            kind=territory.kind,
            annual_ceiling=command.annual_ceiling,
        )
    ]
