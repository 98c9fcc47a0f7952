"""The dashboard's figures, from the contracts' read-model states: État money programmed and spent per axis and per
year, contracts by status, deadlines due this month. Integer cents throughout."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from pydantic import BaseModel


class AxisYear(BaseModel):
    axis: str
    year: int
    programmed: int  # État cents committed by the fiches actions
    spent: int  # État cents reported spent in the execution reports


class Dashboard(BaseModel):
    contracts: int
    by_status: dict[str, int]
    axis_years: list[AxisYear]
    deadlines_this_month: list[dict[str, Any]]


def figures(states: list[dict[str, Any]], reminders: list[dict[str, Any]], today: date) -> Dashboard:
    programmed: Counter[tuple[str, int]] = Counter()
    spent: Counter[tuple[str, int]] = Counter()
    for state in states:
        axis_of = {action_id: action["axis"] for action_id, action in state.get("actions", {}).items()}
        for action in state.get("actions", {}).values():
            for year, amounts in action.get("amounts", {}).items():
                programmed[(action["axis"], int(year))] += amounts["etat"]
        for year, record in state.get("years", {}).items():
            report = record.get("report")
            for action_id, cents in (report or {}).get("etat_spent", {}).items():
                if action_id in axis_of:
                    spent[(axis_of[action_id], int(year))] += cents
    keys = sorted(set(programmed) | set(spent), key=lambda k: (k[1], k[0]))
    month = [
        r
        for r in reminders
        if isinstance(r["due"], date) and (r["due"].year, r["due"].month) == (today.year, today.month)
    ]
    return Dashboard(
        contracts=len(states),
        by_status=dict(sorted(Counter(s.get("status", "NONE") for s in states).items())),
        axis_years=[AxisYear(axis=a, year=y, programmed=programmed[(a, y)], spent=spent[(a, y)]) for a, y in keys],
        deadlines_this_month=month,
    )
