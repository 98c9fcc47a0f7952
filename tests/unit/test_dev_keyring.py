"""`pacte dev`'s data directory and keyring (issue 25, item 7): private from the start, and its Temporal Web UI reads
payloads through Pacte's codec endpoint."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from pacte import dev, embedded
from pacte.keyring import Keyring
from pacte.settings import Settings


def test_the_data_directory_is_private_and_holds_a_private_keyring(tmp_path: Path) -> None:
    data = tmp_path / ".pacte"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)  # as an earlier version left it
    previous = os.umask(0o022)
    try:
        dev.prepare_data_dir(Settings(data_dir=data))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    keyring = data / "keyring.json"
    assert stat.S_IMODE(keyring.stat().st_mode) == 0o600
    assert Keyring.from_json(keyring.read_text()) == Settings(data_dir=data).load_keyring()  # kept, not remade


def test_the_dev_servers_ui_reads_payloads_through_pactes_codec_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[list[str]] = []

    def popen(args: list[str], **_: Any) -> object:
        started.append(args)
        return object()

    monkeypatch.setattr(embedded.subprocess, "Popen", popen)
    embedded.start_temporal_dev_server(tmp_path, 7233, 8233, "default", codec_endpoint="http://127.0.0.1:8000/ui/codec")
    (args,) = started
    assert args[args.index("--ui-codec-endpoint") + 1] == "http://127.0.0.1:8000/ui/codec"


def test_pacte_keys_rotates_the_keyring_file_and_keeps_it_private(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pacte.cli import app
    from pacte.settings import get_settings

    get_settings.cache_clear()
    env = {"PACTE_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    try:
        assert runner.invoke(app, ["keys", "rotate"], env=env).exit_code == 1  # no keyring yet: nothing made here
        first = Settings(data_dir=tmp_path).load_keyring()
        get_settings.cache_clear()
        rotated = runner.invoke(app, ["keys", "rotate", "--id", "k2"], env=env)
        assert rotated.exit_code == 0, rotated.output
        after = Settings(data_dir=tmp_path).load_keyring()
        assert after.active == "k2" and after.keys[first.active] == first.keys[first.active]
        assert stat.S_IMODE((tmp_path / "keyring.json").stat().st_mode) == 0o600
        get_settings.cache_clear()
        assert runner.invoke(app, ["keys", "remove", "k2"], env=env).exit_code == 1  # never the active key
        get_settings.cache_clear()
        listed = runner.invoke(app, ["keys", "list"], env=env)
        assert "k2  (active" in listed.output and first.active in listed.output
        assert first.keys[first.active].hex() not in listed.output
    finally:
        get_settings.cache_clear()
