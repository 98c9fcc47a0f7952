"""Who may do what, and on which territory (DOMAIN.md §5). The API checks it too; the domain always does."""

from __future__ import annotations

from domain.actors import Actor, Role
from domain.errors import Forbidden, OutOfScope
from domain.territories import Territory

# Command type -> roles allowed to send it.
ALLOWED_ROLES: dict[str, frozenset[Role]] = {
    "ProposeContract": frozenset({Role.PREFET}),
    "AddAction": frozenset({Role.PREFET, Role.COLLECTIVITE}),
    "ChangeAction": frozenset({Role.PREFET, Role.COLLECTIVITE}),
    "RemoveAction": frozenset({Role.PREFET, Role.COLLECTIVITE}),
    "RecordDeliberation": frozenset({Role.COLLECTIVITE}),
    "SignContract": frozenset({Role.PREFET, Role.COLLECTIVITE}),
    "RecordCommitteeReview": frozenset({Role.COMMISSAIRE}),
    "Renew": frozenset({Role.PREFET}),
    "Amend": frozenset({Role.PREFET, Role.COLLECTIVITE}),
    "SignAvenant": frozenset({Role.PREFET, Role.COLLECTIVITE}),
    "SubmitExecutionReport": frozenset({Role.COLLECTIVITE}),
    "RecordMidTermEvaluation": frozenset({Role.COMMISSAIRE}),
    "Suspend": frozenset({Role.COMMISSAIRE}),
    "Resume": frozenset({Role.PREFET, Role.COMMISSAIRE}),
    "Terminate": frozenset({Role.PREFET, Role.COLLECTIVITE}),
    "BeginClosing": frozenset({Role.SYSTEM}),
    "CloseContract": frozenset({Role.PREFET}),
    "OpenProgrammeYear": frozenset({Role.SYSTEM}),
    "RecordMissedDeadline": frozenset({Role.SYSTEM}),
    # A fact is rectified by a role that may record it in the first place.
    "RectifyExecutionReport": frozenset({Role.COLLECTIVITE}),
    "RectifySignature": frozenset({Role.PREFET, Role.COLLECTIVITE}),
}


def check_role(command_type: str, actor: Actor) -> None:
    if actor.role is Role.AUDITOR:
        raise Forbidden(
            "actor.role: an auditor reads, replays and verifies; an auditor changes nothing", field="actor.role"
        )
    allowed = ALLOWED_ROLES[command_type]
    if actor.role not in allowed:
        names = " or ".join(sorted(r.value for r in allowed))
        raise Forbidden(f"actor.role: {command_type} is for {names}, not for a {actor.role.value}", field="actor.role")


def check_scope(actor: Actor, *, territory_id: str, departements: tuple[str, ...], region: str, name: str) -> None:
    """A préfet acts on its départements, a collectivité on its own SIREN, a commissaire on its région."""
    if actor.role is Role.SYSTEM:
        return
    if actor.role is Role.PREFET:
        ok = any(actor.covers(dep) for dep in departements)
        where = f"départements {', '.join(departements)}"
    elif actor.role is Role.COLLECTIVITE:
        ok = territory_id in actor.scope  # never national: a collectivité acts only for itself
        where = f"territory {territory_id}"
    elif actor.role is Role.COMMISSAIRE:
        ok = actor.covers(region)
        where = f"région {region}"
    else:  # pragma: no cover - auditors are refused before
        ok = False
        where = name
    if not ok:
        raise OutOfScope(
            f"actor.scope: {actor.role.value} {actor.identity!r} (scope {', '.join(actor.scope) or 'none'}) "
            f"does not cover {name} ({where})",
            field="actor.scope",
        )


def check_territory_scope(actor: Actor, territory: Territory) -> None:
    check_scope(
        actor,
        territory_id=territory.id,
        departements=territory.departements,
        region=territory.region,
        name=territory.name,
    )
