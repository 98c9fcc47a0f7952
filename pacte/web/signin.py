"""Sign-in methods. The pages only know ``session.Person``; a method proves who someone is and fills it in.
``DemoSignIn`` lists the demo identities (`pacte dev`, the tests); OpenID Connect comes as another method."""

from __future__ import annotations

from dataclasses import dataclass

from domain.actors import Actor, Person, Role

ORGANISATIONS = {
    "prefecture-gironde": "Préfecture de la Gironde",
    "bordeaux-metropole": "Bordeaux Métropole",
    "commissaire-nouvelle-aquitaine": "Commissaire à la lutte contre la pauvreté, Nouvelle-Aquitaine",
    "cour-des-comptes": "Cour des comptes",
}


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
        for key, actor in DEMO.items()
    ]
