"""Each avenant of a contract as what it changes, over its whole life: a concluded one as it changed the contract the
moment it was concluded (the fiches and ceiling just before), one still to sign as it would change the contract now.
Both read ``avenant_changes``, the one reading of an avenant's effect. Pure: the caller gives the contract's facts."""

from __future__ import annotations

from collections.abc import Iterable

from domain.avenants import AvenantChanges, avenant_changes
from domain.business_time import business_date
from domain.events import AvenantConcluded, Event
from domain.evolve import evolve
from domain.state import INITIAL_STATE


def avenants_changes(events: Iterable[Event]) -> dict[str, AvenantChanges]:
    """Avenant id -> what it changed (concluded) or would change (still to sign), in the order they were proposed."""
    state = INITIAL_STATE
    concluded: dict[str, AvenantChanges] = {}
    for event in events:
        if isinstance(event, AvenantConcluded) and event.avenant_id in state.avenants:
            concluded[event.avenant_id] = avenant_changes(
                state.actions, state.annual_ceiling, state.avenants[event.avenant_id]
            ).model_copy(update={"concluded_on": business_date(event.occurred_at)})
        state = evolve(state, event)
    return {
        avenant_id: concluded.get(avenant_id) or avenant_changes(state.actions, state.annual_ceiling, avenant)
        for avenant_id, avenant in state.avenants.items()
    }
