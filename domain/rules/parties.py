"""Who signs for whom: the préfet for the État, a collectivité's agent for the collectivité."""

from __future__ import annotations

from domain.actors import Actor, Role
from domain.errors import OutOfScope, ValidationRefused
from domain.state import ContractState
from domain.values import Party


def party_of(actor: Actor) -> Party:
    return Party.ETAT if actor.role is Role.PREFET else Party.COLLECTIVITE


def check_party(party: Party, actor: Actor, state: ContractState) -> None:
    if party is not party_of(actor):
        raise ValidationRefused(
            f"party: a {actor.role.value} signs for {party_of(actor).value}, not for {party.value}",
            field="party",
            rule="signature.wrong_party",
            params={"role": actor.role.value, "party": party.value},
        )
    if party is Party.ETAT and not any(d in actor.scope for d in state.departements):
        raise OutOfScope(
            f"actor.scope: the État signs through the préfet of {', '.join(state.departements)}, not "
            f"{actor.identity!r} (scope {', '.join(actor.scope) or '—'}); a national scope reads and proposes, it "
            "does not sign",
            field="actor.scope",
            rule="signature.not_the_prefet",
        )
