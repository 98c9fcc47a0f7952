"""The fair baseline's activity: one event appended to the store, as the contract's append does (outside the sandbox)."""

from __future__ import annotations

from datetime import datetime

from temporalio import activity

from eventstore.records import NewEvent, event_id_for
from eventstore.store import EventStore


class BareAppends:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    @activity.defn(name="bench_append")
    async def append(self, stream_id: str, version: int, at: datetime) -> None:
        event = NewEvent(
            event_id=event_id_for(stream_id, version + 1),
            event_type="BenchStep",
            payload={"type": "BenchStep", "n": version + 1},
            metadata={"request_id": f"{stream_id}/{version + 1}"},
            occurred_at=at,
        )
        await self.store.append(stream_id, version, [event])
