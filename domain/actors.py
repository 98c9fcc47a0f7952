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
    ADMIN = "admin"  # runs Pacte: the access list and the API tokens within its scope; no business act
    SYSTEM = "system"  # the workflow itself: opening a year, recording a missed deadline


NO_NUL = r"^[^\x00]*$"  # limits.STORABLE_TEXT


class Person(BaseModel):
    """The person behind a role identity — who signed, who changed something — as their identity provider knows them
    (``sub`` is the stable key, ProConnect's). Recorded with every act they do, so an auditor sees the person."""

    model_config = ConfigDict(frozen=True)

    sub: str = Field(min_length=1, max_length=255, pattern=NO_NUL)
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    email: str | None = Field(default=None, max_length=254, pattern=NO_NUL)
    # A person named by an import file, not signed in: the file declares who did it, nobody proved it
    # ("déclaré par l'import"). Never equal to the signed-in person of the same sub; absent from the stored form when
    # false, so facts recorded before keep exactly their form and their digests.
    declared: bool = Field(default=False, exclude_if=lambda value: not value)


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
    # Absent from the record when unknown (scripts' tokens, the calendar): facts recorded before persons were known
    # keep exactly their stored form, so their history replays unchanged.
    person: Person | None = Field(default=None, exclude_if=lambda value: value is None)

    def covers(self, value: str) -> bool:
        return "*" in self.scope or value in self.scope


SYSTEM_ACTOR = Actor(role=Role.SYSTEM, identity="pacte", scope=("*",))
