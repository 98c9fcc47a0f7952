"""An import file: JSON lines, one fact a line, grouped by contract in the order of the file."""

from __future__ import annotations

import json
from typing import Any

from domain.errors import ValidationRefused
from domain.reprise import MAX_LINES


def dump_lines(lines: list[dict[str, Any]]) -> str:
    """An import file's text: one fact a line."""
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)


def group_lines(text: str) -> dict[str, list[tuple[int, Any]]]:
    """Each contract's lines with their numbers. A line that is not JSON, or names no contract, refuses the whole
    file (no contract can be said to be complete), naming the line."""
    by_contract: dict[str, list[tuple[int, Any]]] = {}
    count = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        count += 1
        if count > MAX_LINES * 50:
            raise ValidationRefused(
                f"line {number}: a file holds at most {MAX_LINES * 50} facts",
                field="line",
                rule="import.too_many_facts",
                params={"limit": MAX_LINES * 50},
            )
        try:
            raw = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            raise ValidationRefused(
                f"line {number}: not valid JSON", field="line", rule="request.invalid_json"
            ) from None
        contract_id = raw.get("contract_id") if isinstance(raw, dict) else None
        if not isinstance(contract_id, str) or not contract_id:
            raise ValidationRefused(
                f"line {number}: contract_id: every line names its contract",
                field="contract_id",
                rule="import.required",
                params={"name": "contract_id"},
            )
        lines = by_contract.setdefault(contract_id[:64], [])
        if len(lines) >= MAX_LINES:
            raise ValidationRefused(
                f"line {number}: a contract has at most {MAX_LINES} facts",
                field="line",
                rule="import.contract_too_long",
                params={"limit": MAX_LINES},
            )
        lines.append((number, raw))
    if not by_contract:
        raise ValidationRefused("body: the file holds no fact", field="body", rule="import.empty")
    return by_contract
