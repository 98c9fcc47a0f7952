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
