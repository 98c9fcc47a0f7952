"""The person behind an act is recorded with it — and a fact without one keeps exactly its stored form."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.actors import Actor, Person, Role


def test_an_actor_without_a_person_serialises_as_before() -> None:
    actor = Actor(role=Role.PREFET, identity="prefecture-gironde", scope=("33",))
    # The exact shape of every fact recorded before persons were known: no "person" key, so their digests and
    # recorded histories stay valid.
    assert actor.model_dump(mode="json") == {"role": "prefet", "identity": "prefecture-gironde", "scope": ["33"]}


def test_an_actor_with_a_person_records_them() -> None:
    marie = Person(sub="a1b2", name="Marie Dupont", email="marie.dupont@gironde.gouv.fr")
    actor = Actor(role=Role.PREFET, identity="prefecture-gironde", scope=("33",), person=marie)
    assert actor.model_dump(mode="json")["person"] == {
        "sub": "a1b2",
        "name": "Marie Dupont",
        "email": "marie.dupont@gironde.gouv.fr",
    }
    assert Actor.model_validate(actor.model_dump(mode="json")) == actor


@pytest.mark.parametrize(
    "bad", [{"sub": "", "name": "x"}, {"sub": "a", "name": "x\x00y"}, {"sub": "a" * 300, "name": "x"}]
)
def test_a_person_must_be_storable(bad: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Person.model_validate(bad)
