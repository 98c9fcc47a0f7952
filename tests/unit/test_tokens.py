"""Tokens are stored hashed, expire, and never stand for the system; `pacte tokens` manages them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.actors import SYSTEM_ACTOR, Actor, Role
from pacte import tokens

PREFET = Actor(role=Role.PREFET, identity="p33", scope=("33",))


def test_the_file_holds_hashes_only_and_tokens_expire(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    now = datetime(2026, 1, 1, tzinfo=UTC)
    token, entry = tokens.add(path, PREFET, days=10, now=now)
    assert token not in path.read_text() and entry.sha256 in path.read_text()
    assert path.stat().st_mode & 0o777 == 0o600
    loaded = tokens.load(path)
    assert tokens.authenticate(loaded, token, now + timedelta(days=9)) == PREFET
    assert tokens.authenticate(loaded, token, now + timedelta(days=10)) is None  # expired
    assert tokens.authenticate(loaded, token + "x", now) is None
    with pytest.raises(ValueError, match="system"):
        tokens.add(path, SYSTEM_ACTOR)


@pytest.mark.parametrize("days", [0, -1, tokens.MAX_DAYS + 1])
def test_a_token_lives_a_bounded_positive_time(tmp_path: Path, days: int) -> None:
    with pytest.raises(ValueError, match="days"):
        tokens.add(tmp_path / "tokens.json", PREFET, days=days)
    assert not (tmp_path / "tokens.json").exists()  # nothing stored


@pytest.mark.parametrize(
    "actor",
    [
        Actor(role=Role.PREFET, identity="p", scope=("99",)),  # no such département
        Actor(role=Role.COLLECTIVITE, identity="c", scope=("*",)),  # a collectivité is never national
        Actor(role=Role.COLLECTIVITE, identity="c", scope=("123456789",)),  # no such territory
        Actor(role=Role.COMMISSAIRE, identity="c", scope=("33",)),  # a département, not a région
        Actor(role=Role.AUDITOR, identity="a", scope=("33",)),
        Actor(role=Role.PREFET, identity="p", scope=()),
    ],
)
def test_scopes_are_checked_against_the_reference_data(tmp_path: Path, actor: Actor) -> None:
    with pytest.raises(ValueError, match="scope"):
        tokens.add(tmp_path / "tokens.json", actor)


def test_concurrent_adds_all_land_and_the_file_is_private_throughout(tmp_path: Path) -> None:
    import threading

    path = tmp_path / "tokens.json"
    issued: list[str] = []
    threads = [threading.Thread(target=lambda: issued.append(tokens.add(path, PREFET)[0])) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    loaded = tokens.load(path)
    assert len(loaded.tokens) == 16 and all(tokens.valid(loaded, t, datetime.now(UTC)) for t in issued)
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_expired_demo_tokens_are_renewed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pacte.dev import demo_tokens
    from pacte.settings import Settings

    settings = Settings(data_dir=tmp_path)
    first = demo_tokens(settings)
    assert demo_tokens(settings) == first  # kept while they work
    assert (tmp_path / "demo-tokens.json").stat().st_mode & 0o777 == 0o600
    later = datetime.now(UTC) + timedelta(days=31)
    monkeypatch.setattr("pacte.dev.datetime", type("Later", (), {"now": staticmethod(lambda tz=None: later)}))
    renewed = demo_tokens(settings)
    assert renewed != first and set(renewed) == set(first)
    assert all(tokens.valid(tokens.load(settings.tokens_path()), t, later) for t in renewed.values())


def test_a_persons_token_dies_with_the_grant_it_was_made_under(tmp_path: Path) -> None:
    """Issue 25, item 1: a token made from a session carries its grant; revoked or expired, the token is refused."""
    from domain.actors import Person
    from pacte import access

    access_path, tokens_path = tmp_path / "access.json", tmp_path / "tokens.json"
    marie = Person(sub="f3a9", name="Marie Dupont", email="marie.dupont@gironde.gouv.fr")
    granted = access.grant(access_path, "sub", "f3a9", tokens.DEMO["prefet"], by="admin", days=30)
    actor = granted.actor().model_copy(update={"person": marie})
    token, entry = tokens.add(tokens_path, actor, days=90, grant_id=granted.grant_id)
    now = datetime.now(UTC)
    assert entry.grant_id == granted.grant_id
    assert tokens.authenticate(tokens.load(tokens_path), token, now, access.load(access_path)) == actor
    access.revoke(access_path, granted.grant_id, by="admin")
    assert tokens.authenticate(tokens.load(tokens_path), token, now, access.load(access_path)) is None
    # Past the grant's own end, the token is refused too (it was given 90 days, the grant 30).
    later = access.grant(access_path, "sub", "f3a9", tokens.DEMO["prefet"], by="admin", days=30)
    token, _ = tokens.add(tokens_path, actor, days=90, grant_id=later.grant_id)
    assert (
        tokens.authenticate(tokens.load(tokens_path), token, now + timedelta(days=31), access.load(access_path)) is None
    )


def test_a_person_holds_a_bounded_number_of_tokens(tmp_path: Path) -> None:
    from domain.actors import Person

    path = tmp_path / "tokens.json"
    actor = tokens.DEMO["prefet"].model_copy(update={"person": Person(sub="f3a9", name="Marie", email="m@x.fr")})
    for _ in range(tokens.MAX_PER_PERSON):
        tokens.add(path, actor, days=1)
    with pytest.raises(ValueError, match="tokens: "):
        tokens.add(path, actor, days=1)
