"""The dashboard's figures, from the contracts' read-model states: État money programmed and spent per axis and per
year, contracts by status, the deadlines missed and those due this month (judged by the domain's
``deadline_standings``, as on the contract's page). Integer cents throughout."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from pydantic import BaseModel

from domain.deadlines import DeadlineKind, Standing, deadline_standings
from domain.policy import Policy
from domain.state import ContractState
from domain.status import FINAL_STATUSES


class AxisYear(BaseModel):
    axis: str
    year: int
    programmed: int  # État cents committed by the fiches actions
    spent: int  # État cents reported spent in the execution reports


class DeadlineRow(BaseModel):
    contract_id: str
    territory_name: str
    kind: DeadlineKind
    year: int | None
    due: date
    standing: Standing
    days: int


class Dashboard(BaseModel):
    contracts: int
    by_status: dict[str, int]
    axis_years: list[AxisYear]
    deadlines: list[DeadlineRow]  # missed and not met, then due this month; each once


def deadline_rows(summaries: list[dict[str, Any]], policy: Policy, today: date) -> list[DeadlineRow]:
    """Each contract's deadlines missed (not met) or due this month, with the territory's name."""
    rows = []
    for summary in summaries:
        state = ContractState.model_validate(summary["state"])
        if state.status in FINAL_STATUSES:
            continue  # closed or terminated: nothing is due any more (its page keeps the misses it recorded)
        for d in deadline_standings(state, policy, today):
            this_month = (d.due.year, d.due.month) == (today.year, today.month)
            if d.standing is Standing.MISSED or (d.standing is Standing.TO_COME and this_month):
                rows.append(
                    DeadlineRow(
                        contract_id=state.contract_id,
                        territory_name=state.territory_name,
                        **d.model_dump(include={"kind", "year", "due", "standing", "days"}),
                    )
                )
    return sorted(rows, key=lambda r: (r.standing is not Standing.MISSED, r.due, r.territory_name))


def figures(summaries: list[dict[str, Any]], policy: Policy, today: date) -> Dashboard:
    states = [s["state"] for s in summaries]
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
    return Dashboard(
        contracts=len(states),
        by_status=dict(sorted(Counter(s.get("status", "NONE") for s in states).items())),
        axis_years=[AxisYear(axis=a, year=y, programmed=programmed[(a, y)], spent=spent[(a, y)]) for a, y in keys],
        deadlines=deadline_rows(summaries, policy, today),
    )
