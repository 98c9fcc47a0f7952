"""Exports in the formats auditors take away: JSON lines and CSV, written as the rows stream by."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any

CSV_COLUMNS = [
    "global_position",
    "stream_id",
    "version",
    "event_type",
    "occurred_at",
    "recorded_at",
    "role",
    "identity",
    "payload",
    "hash",
    "person",
]


# What a spreadsheet (Excel, LibreOffice) runs as a formula when a cell starts with it: a name, an identity or a
# reference imported from outside could carry =HYPERLINK(...) to an auditor's machine. Such a cell is written as
# text, behind an apostrophe (OWASP's advice); numbers are never strings here, so nothing legitimate changes.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


async def jsonl_lines(rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[str]:
    async for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


async def csv_lines(rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    async for row in rows:
        actor = row["metadata"].get("actor", {})
        writer.writerow(
            neutralised(cell)
            for cell in [
                row["global_position"],
                row["stream_id"],
                row["version"],
                row["event_type"],
                row["occurred_at"],
                row["recorded_at"],
                actor.get("role"),
                actor.get("identity"),
                json.dumps(row["payload"], ensure_ascii=False),
                row["hash"],
                _person(actor.get("person")),
            ]
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _person(person: dict[str, Any] | None) -> str:
    if not person:
        return ""
    named = f"{person['name']} <{person['email']}>" if person.get("email") else person["name"]
    # Named by an import file, not signed in: said so, never passed off as a person who proved who they are.
    return f"{named} (déclaré par l'import)" if person.get("declared") else named
