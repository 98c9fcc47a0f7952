"""Logging follows sys.stderr: a stream swapped and closed after logging was set up (a CLI run inside a test) must not
turn later log lines into "--- Logging error --- I/O operation on closed file"."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from pacte.logging import configure_logging


def test_a_log_line_after_stderr_was_swapped_and_closed_goes_to_the_current_stderr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))  # restored after the test
    monkeypatch.setattr(root, "level", root.level)
    swapped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", swapped)
    configure_logging("INFO", "json")
    swapped.close()
    current = io.StringIO()
    monkeypatch.setattr(sys, "stderr", current)
    errors: list[BaseException] = []
    monkeypatch.setattr(logging, "raiseExceptions", True)
    monkeypatch.setattr(logging.Handler, "handleError", lambda self, record: errors.append(sys.exc_info()[1]))  # type: ignore[arg-type, misc]
    logging.getLogger("temporalio.runtime").warning("a late line from the SDK")
    assert errors == []
    assert "a late line from the SDK" in current.getvalue()
