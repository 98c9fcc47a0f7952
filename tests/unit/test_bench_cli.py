"""The benchmarks stay runnable: each module compiles, imports and answers --help (they run outside the suite)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", ["bench.eventstore", "bench.lifecycle"])
def test_a_benchmark_answers_help(module: str) -> None:
    done = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout and "--rounds" in done.stdout
