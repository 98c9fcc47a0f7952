"""`pacte simulate --territories 126 --json`: the whole programme for the 123 real territories and three synthetic
intercommunalités, every contract closed or terminated, store intact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

PACTE = str(Path(sys.executable).parent / "pacte")


def test_the_whole_programme_for_every_territory_and_synthetic_ones(postgres_server_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "PACTE_DATABASE_URL": postgres_server_url, "PACTE_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [PACTE, "simulate", "--territories", "126", "--seed", "2024", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1100,  # a guard against a hang, far above the minute it takes (several on a loaded machine)
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)  # stdout is exactly one JSON object
    # 23 métropoles and assimilated, 100 département-level collectivités, and 3 made-up intercommunalités
    assert report["contracts"] == 126 and report["synthetic"] == 3
    assert report["closed"] + report["terminated"] == report["contracts"]
    assert report["terminated"] > 0 and report["missed_deadlines"] > 0  # the seeded incidents happened
    assert report["refused"] == 0 and report["verify"] == "ok"
    assert report["events"] > 30 * report["contracts"]  # a whole lifecycle is about forty events


def test_a_wrong_number_of_territories_is_a_usage_error(tmp_path: Path) -> None:
    env = {**os.environ, "PACTE_DATA_DIR": str(tmp_path)}
    for wrong in ("many", "0"):
        result = subprocess.run([PACTE, "simulate", "--territories", wrong], env=env, capture_output=True, text=True)
        assert result.returncode == 2 and "territories" in result.stderr, result.stderr
