"""The benchmarks stay runnable: each module compiles, imports and answers --help (they run outside the suite)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("module", "option"),
    [
        ("bench.eventstore", "--rounds"),
        ("bench.lifecycle", "--rounds"),
        ("bench.scale", "--repeat"),
        ("bench.web_tools", "--repeat"),
    ],
)
def test_a_benchmark_answers_help(module: str, option: str) -> None:
    done = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout and option in done.stdout
