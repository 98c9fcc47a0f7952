"""evolve(state, event) -> state: folds facts, total, never raises. Rules belong in decide, not here."""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce

from domain.events import ContractProposed, Event
from domain.state import INITIAL_STATE, ContractState, Status


def evolve(state: ContractState, event: Event) -> ContractState:
    changes: dict[str, object] = {
        "version": state.version + 1,
        "request_ids": state.request_ids | {event.request_id},
    }
    match event:
        case ContractProposed():
            changes.update(
                contract_id=event.contract_id,
                status=Status.PROPOSED,
                territory_id=event.territory_id,
                territory_name=event.territory_name,
                kind=event.kind,
                annual_ceiling=event.annual_ceiling,
            )
    return state.model_copy(update=changes)


def fold(events: Iterable[Event], state: ContractState = INITIAL_STATE) -> ContractState:
    return reduce(evolve, events, state)
