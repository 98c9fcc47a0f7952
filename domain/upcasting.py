"""The one registry every reader goes through: stored payloads of old schema versions become current events."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from domain.events import EVENT_ADAPTER, Event

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]

# (event type, from version) -> function returning the payload at from version + 1.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    def register(fn: Upcaster) -> Upcaster:
        UPCASTERS[(event_type, from_version)] = fn
        return fn

    return register


@upcaster("AvenantSigned", 1)
def _avenant_signatory(payload: Payload) -> Payload:
    """Avenant signatures recorded before the signatory was asked: the signatory is unknown (empty), not guessed."""
    return {**payload, "signatory": "", "schema_version": 2}


def upcast(payload: Payload) -> Payload:
    """Apply every registered step until no upcaster matches the payload's (type, schema_version)."""
    current = dict(payload)
    current.setdefault("schema_version", 1)
    while (step := UPCASTERS.get((current["type"], current["schema_version"]))) is not None:
        current = step(current)
    return current


def parse_event(payload: Payload) -> Event:
    return EVENT_ADAPTER.validate_python(upcast(payload))


def parse_event_json(text: str, event_type: str, schema_version: int) -> Event:
    """Parse stored JSON text; straight into the model when no upcaster applies (the common, fast case)."""
    if (event_type, schema_version) in UPCASTERS:
        return parse_event(json.loads(text))
    return EVENT_ADAPTER.validate_json(text)
