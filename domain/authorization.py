"""Who may do what, and on which territory (DOMAIN.md §5). The API checks it too; the domain always does.

Which roles may send a command is declared with the command's handler (domain/rules); ``ALLOWED_ROLES`` is the table
built from those declarations. The territories an actor covers are domain/scope.py's.
"""

from __future__ import annotations

from domain.actors import Actor, Role
from domain.errors import Forbidden
from domain.rules import ALLOWED_ROLES
from domain.scope import check_scope, check_territory_scope


def check_role(command_type: str, actor: Actor) -> None:
    if actor.role is Role.AUDITOR:
        raise Forbidden(
            "actor.role: an auditor reads, replays and verifies; an auditor changes nothing",
            field="actor.role",
            rule="role.auditor_reads_only",
        )
    allowed = ALLOWED_ROLES[command_type]
    if actor.role not in allowed:
        names = " or ".join(sorted(r.value for r in allowed))
        raise Forbidden(
            f"actor.role: {command_type} is for {names}, not for a {actor.role.value}",
            field="actor.role",
            rule="role.not_allowed",
            params={"act": command_type, "role": actor.role.value},
        )


__all__ = ["ALLOWED_ROLES", "check_role", "check_scope", "check_territory_scope"]
