"""On which territories an actor acts (DOMAIN.md §5): a préfet on its départements, a collectivité on itself, a
commissaire on its région. Which commands each role may send is declared with each command (domain/rules)."""

from __future__ import annotations

from domain.actors import Actor, Role
from domain.errors import OutOfScope
from domain.territories import Territory


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
    else:  # auditors are refused before; an admin acts on no territory (it runs Pacte, no business act)
        ok = False
        where = name
    if not ok:
        raise OutOfScope(
            f"actor.scope: {actor.role.value} {actor.identity!r} (scope {', '.join(actor.scope) or 'none'}) "
            f"does not cover {name} ({where})",
            field="actor.scope",
            rule="scope.outside",
            params={"name": name},
        )


def check_territory_scope(actor: Actor, territory: Territory) -> None:
    check_scope(
        actor,
        territory_id=territory.id,
        departements=territory.departements,
        region=territory.region,
        name=territory.name,
    )
