"""Shared helpers for tests that write domain events straight into the event store."""

from __future__ import annotations

from domain.events import Event
from eventstore.records import NewEvent, new_event_from
from eventstore.store import EventStore


def stored_form(stream: str, first_version: int, events: list[Event]) -> list[NewEvent]:
    return [new_event_from(stream, first_version + i, e, workflow_id=stream) for i, e in enumerate(events)]


async def append_by_request(store: EventStore, stream: str, events: list[Event]) -> int:
    """Append events grouped by request, as the workflow does (one append per command); return the version."""
    version = await store.stream_version(stream)
    groups: list[list[Event]] = []
    for event in events:
        if groups and groups[-1][0].request_id == event.request_id:
            groups[-1].append(event)
        else:
            groups.append([event])
    for group in groups:
        result = await store.append(stream, version, stored_form(stream, version + 1, group))
        version = result.version
    return version


def auth(issued: dict[str, str], name: str) -> dict[str, str]:
    """The header that presents the token issued to one of the module's actors."""
    return {"Authorization": f"Bearer {issued[name]}"}
