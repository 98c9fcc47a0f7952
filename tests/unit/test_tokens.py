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
