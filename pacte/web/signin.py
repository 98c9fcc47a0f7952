"""Sign-in methods. The pages only know ``session.Person``; a method proves who someone is and fills it in.
``DemoSignIn`` lists the demo identities (`pacte dev`, the tests); OpenID Connect comes as another method."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.actors import Actor, Person, Role

ORGANISATIONS = {
    "prefecture-gironde": "Préfecture de la Gironde",
    "bordeaux-metropole": "Bordeaux Métropole",
    "commissaire-nouvelle-aquitaine": "Commissaire à la lutte contre la pauvreté, Nouvelle-Aquitaine",
    "cour-des-comptes": "Cour des comptes",
    "administration-gironde": "Préfecture de la Gironde — administration de Pacte",
}
# Who runs Pacte for the Gironde (DOMAIN.md §5): signs in to manage the API tokens of its départements; no API
# token of its own among the demo ones (an administrator's power is the web's and the CLI's).
DEMO_ADMIN = Actor(role=Role.ADMIN, identity="administration-gironde", scope=("33",))


@dataclass(frozen=True)
class DemoIdentity:
    key: str
    name: str
    organisation: str
    actor: Actor


def demo_identities() -> list[DemoIdentity]:
    # The same identities as the demo API tokens, each with a person's name so pages read as they will for real.
    from pacte.tokens import DEMO

    names = {
        Role.PREFET: "Claire Martin",
        Role.COLLECTIVITE: "Karim Benali",
        Role.COMMISSAIRE: "Sophie Leroy",
        Role.AUDITOR: "Marc Durand",
        Role.ADMIN: "Luc Bernard",
    }
    return [
        DemoIdentity(
            key,
            names[actor.role],
            ORGANISATIONS.get(actor.identity, actor.identity),
            actor.model_copy(
                update={"person": Person(sub=f"demo-{key}", name=names[actor.role], email=f"{key}@demo.pacte")}
            ),
        )
        for key, actor in {**DEMO, "admin": DEMO_ADMIN}.items()
    ]


def demo_grants(settings: Any, now: datetime | None = None) -> None:
    """The demo persons on the access list (pacte dev, the tests), each by its sub, renewed once expired."""
    from pacte import access

    now = now or datetime.now(UTC)
    path = settings.access_path()
    current = access.load(path)
    for identity in demo_identities():
        assert identity.actor.person is not None
        sub = identity.actor.person.sub
        if any(g.match == "sub" and g.value == sub and g.active(now) for g in current.grants):
            continue
        access.grant(
            path,
            "sub",
            sub,
            identity.actor.model_copy(update={"person": None}),
            by="pacte dev",
            days=30,
            organisation=identity.organisation,
            now=now,
        )
