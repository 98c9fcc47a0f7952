"""Who acts: every command carries its actor, every event records it (DOMAIN.md §5)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Role(StrEnum):
    PREFET = "prefet"
    COLLECTIVITE = "collectivite"
    COMMISSAIRE = "commissaire"
    AUDITOR = "auditor"
    SYSTEM = "system"  # the workflow itself: opening a year, recording a missed deadline


class Actor(BaseModel):
    """A person acting in a role over a scope.

    scope: département INSEE codes for a préfet, territory ids (SIREN) for a collectivité, région codes for a
    commissaire; ``*`` means national scope (DGCS), allowed to préfets and commissaires only.
    """

    model_config = ConfigDict(frozen=True)

    role: Role
    identity: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")  # limits.STORABLE_TEXT
    scope: tuple[Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[*0-9A-Za-z]+$")], ...] = Field(
        default=(), max_length=200
    )

    def covers(self, value: str) -> bool:
        return "*" in self.scope or value in self.scope


SYSTEM_ACTOR = Actor(role=Role.SYSTEM, identity="pacte", scope=("*",))
