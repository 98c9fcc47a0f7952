"""Tokens are stored hashed, expire, and never stand for the system; `pacte tokens` manages them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from domain.actors import SYSTEM_ACTOR, Actor, Role
from pacte import tokens
from pacte.cli import app
from pacte.settings import get_settings

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


def test_tokens_add_prints_the_token_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACTE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["tokens", "add", "--role", "auditor", "--identity", "ccomptes", "--scope", "*"]
        )
        assert result.exit_code == 0
        token = result.stdout.strip().splitlines()[-1]
        assert tokens.authenticate(tokens.load(tmp_path / "tokens.json"), token, datetime.now(UTC)).role is Role.AUDITOR  # type: ignore[union-attr]
        refused = CliRunner().invoke(
            app, ["tokens", "add", "--role", "collectivite", "--identity", "x", "--scope", "*"]
        )
        assert refused.exit_code == 1
        assert CliRunner().invoke(app, ["tokens", "add", "--role", "nobody", "--identity", "x"]).exit_code == 2
    finally:
        get_settings.cache_clear()


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
