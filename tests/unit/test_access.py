"""The access list: a person or an organisation mapped to a role and scope, the most precise grant first; grants
expire and are revoked at once; every change is logged; what cannot be a real grant is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.actors import Actor, Role
from pacte import access

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PREFET_33 = Actor(role=Role.PREFET, identity="prefecture-gironde", scope=("33",))
AUDITOR = Actor(role=Role.AUDITOR, identity="cour-des-comptes", scope=("*",))
MARIE = {"sub": "f3a9", "email": "Marie.Dupont@gironde.gouv.fr", "siret": "17330001300016", "given_name": "Marie"}


def test_the_most_precise_grant_wins_and_an_unknown_person_gets_none(tmp_path: Path) -> None:
    path = tmp_path / "access.json"
    access.grant(path, "siren", "173300013", PREFET_33, by="admin", now=NOW)  # every agent of the préfecture
    assert access.resolve(access.load(path), MARIE, NOW).identity == "prefecture-gironde"  # SIREN from the SIRET
    access.grant(path, "email", "marie.dupont@gironde.gouv.fr", AUDITOR, by="admin", now=NOW)
    assert access.resolve(access.load(path), MARIE, NOW).role is Role.AUDITOR  # the person before her organisation
    assert access.resolve(access.load(path), {"sub": "someone", "email": "x@y.fr"}, NOW) is None


def test_a_grant_expires_and_a_revoked_one_no_longer_opens_anything(tmp_path: Path) -> None:
    path = tmp_path / "access.json"
    entry = access.grant(path, "sub", "f3a9", PREFET_33, by="admin", days=30, now=NOW)
    assert access.active(access.load(path), entry.grant_id, NOW)
    assert not access.active(access.load(path), entry.grant_id, NOW + timedelta(days=30))
    access.revoke(path, entry.grant_id, by="admin", now=NOW + timedelta(days=1))
    assert access.resolve(access.load(path), MARIE, NOW + timedelta(days=2)) is None
    with pytest.raises(ValueError, match="already revoked"):
        access.revoke(path, entry.grant_id, by="admin")
    log = [json.loads(line) for line in (tmp_path / "access-log.jsonl").read_text().splitlines()]
    assert [e["did"] for e in log] == ["grant", "revoke"] and all(e["by"] == "admin" for e in log)


@pytest.mark.parametrize(
    ("match", "value", "actor", "rule"),
    [
        ("siret", "1733", PREFET_33, "14 digits"),
        ("sub", "x", Actor(role=Role.PREFET, identity="p", scope=("999",)), "scope"),
        ("sub", "x", Actor(role=Role.SYSTEM, identity="pacte", scope=("*",)), "system"),
    ],
)
def test_a_grant_that_cannot_be_real_is_refused(
    tmp_path: Path, match: access.Match, value: str, actor: Actor, rule: str
) -> None:
    with pytest.raises(ValueError, match=rule):
        access.grant(tmp_path / "access.json", match, value, actor, by="admin")
    assert not (tmp_path / "access.json").exists()


def test_removing_a_grant_never_widens_what_a_person_may_do(tmp_path: Path) -> None:
    """Issue 25, item 3: an auditor grant by sub, revoked or expired, does not let the préfet grant of her SIRET apply
    (a revocation would otherwise raise her power); a grant at the same level, given anew, does."""
    path = tmp_path / "access.json"
    access.grant(path, "siret", "17330001300016", PREFET_33, by="admin", now=NOW)  # the préfecture's agents
    personal = access.grant(path, "sub", "f3a9", AUDITOR, by="admin", days=30, now=NOW)
    assert access.resolve(access.load(path), MARIE, NOW).role is Role.AUDITOR
    access.revoke(path, personal.grant_id, by="admin", now=NOW + timedelta(days=1))
    assert access.resolve(access.load(path), MARIE, NOW + timedelta(days=2)) is None
    # Expiry is a removal too.
    other = {**MARIE, "sub": "b7c1", "email": "paul@gironde.gouv.fr"}
    access.grant(path, "email", "paul@gironde.gouv.fr", AUDITOR, by="admin", days=1, now=NOW)
    assert access.resolve(access.load(path), other, NOW + timedelta(days=2)) is None
    # An organisation grant excludes a person by granting nothing to her sub: a revoked grant is that exclusion.
    again = access.grant(path, "sub", "f3a9", PREFET_33, by="admin", now=NOW + timedelta(days=3))
    assert access.resolve(access.load(path), MARIE, NOW + timedelta(days=4)) == again
