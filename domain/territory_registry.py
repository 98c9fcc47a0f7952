"""Operators register further intercommunalités (DOMAIN.md §6): a command and an event, never a code change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.actors import Actor, Role
from domain.errors import Forbidden, OutOfScope, ValidationRefused
from domain.territories import Territory, TerritoryCatalogue

TERRITORIES_STREAM = "territories"


class RegisterTerritory(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["RegisterTerritory"] = "RegisterTerritory"
    schema_version: int = 1
    actor: Actor
    request_id: str = Field(min_length=1, max_length=200)
    at: AwareDatetime
    territory: Territory


class TerritoryRegistered(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["TerritoryRegistered"] = "TerritoryRegistered"
    schema_version: int = 1
    actor: Actor
    request_id: str
    occurred_at: AwareDatetime
    territory: Territory


def decide_registration(command: RegisterTerritory, catalogue: TerritoryCatalogue) -> list[TerritoryRegistered]:
    if command.actor.role is not Role.PREFET:
        raise Forbidden(
            f"actor.role: a préfet registers a territory, not a {command.actor.role.value}",
            field="actor.role",
            rule="role.not_allowed",
            params={"act": command.type, "role": command.actor.role.value},
        )
    territory = command.territory
    if not any(command.actor.covers(dep) for dep in territory.departements):
        raise OutOfScope(
            f"actor.scope: préfet {command.actor.identity!r} does not cover départements "
            f"{', '.join(territory.departements)}",
            field="actor.scope",
            rule="scope.outside",
            params={"name": ", ".join(territory.departements)},
        )
    existing = catalogue.get(territory.id)
    if existing == territory:
        return []  # registering the same territory again changes nothing
    if existing is not None:
        raise ValidationRefused(
            f"territory.id: {territory.id} is already {existing.name}",
            field="territory.id",
            rule="territory.exists",
            params={"territory": territory.id},
        )
    return [
        TerritoryRegistered(
            actor=command.actor, request_id=command.request_id, occurred_at=command.at, territory=territory
        )
    ]


def catalogue_from(events: Iterable[TerritoryRegistered]) -> TerritoryCatalogue:
    return TerritoryCatalogue(e.territory for e in events)
