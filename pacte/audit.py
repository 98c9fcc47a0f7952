"""What auditors read of a stream on both time axes: each fact's kind (new, late, rectification, withdrawal,
calendar) and its timeline entry, from the recorded events (business time ``occurred_at``, record time
``recorded_at``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from domain.events import RECTIFICATIONS, TIMER_FACTS, WITHDRAWALS
from domain.policy import Policy
from domain.reprise import IMPORT_PREFIX
from eventstore.records import RecordedEvent


def late_by_days(event: RecordedEvent, policy: Policy) -> int | None:
    """Whole days between the fact and its record, when past the policy's threshold (imports included)."""
    days = (event.recorded_at - event.occurred_at).days
    return days if days > policy.late_record_threshold_days else None


def is_imported(event: RecordedEvent) -> bool:
    return str(event.metadata.get("request_id", "")).startswith(IMPORT_PREFIX)


def kinds(events: Sequence[RecordedEvent], policy: Policy) -> dict[int, str]:
    """Why each fact is there: new_fact, late_record, imported, rectification, withdrawal or calendar."""
    out: dict[int, str] = {}
    for e in events:
        if e.event_type in RECTIFICATIONS:
            out[e.version] = "rectification"
        elif e.event_type in WITHDRAWALS:
            out[e.version] = "withdrawal"
        elif e.event_type in TIMER_FACTS and e.metadata.get("actor", {}).get("role") == "system":
            out[e.version] = "calendar"
        elif is_imported(e):
            out[e.version] = "imported"
        elif late_by_days(e, policy) is not None:
            out[e.version] = "late_record"
        else:
            out[e.version] = "new_fact"
    return out


def timeline(events: Sequence[RecordedEvent], policy: Policy) -> list[dict[str, Any]]:
    withdrawn_by: dict[int, int] = {}
    rectified_by: dict[int, list[int]] = defaultdict(list)
    for e in events:
        if e.event_type in WITHDRAWALS:
            withdrawn_by[e.payload["withdrawn_version"]] = e.version
        if e.event_type in RECTIFICATIONS:
            rectified_by[e.payload["rectifies_version"]].append(e.version)
    entries = []
    for e in events:
        actor = e.metadata["actor"]
        recorder = e.payload.get("recorded_by")
        entries.append(
            {
                "version": e.version,
                "event_type": e.event_type,
                "role": actor["role"],
                "identity": actor["identity"],
                "person": actor.get("person"),
                "occurred_at": e.occurred_at,
                "recorded_at": e.recorded_at,
                "recorded_by": recorder["identity"] if recorder else None,
                "source": e.payload.get("source"),
                "imported": is_imported(e),
                "late_by_days": late_by_days(e, policy),
                "withdrawn_by": withdrawn_by.get(e.version),
                "rectified_by": rectified_by.get(e.version, []),
                "payload": e.payload,
            }
        )
    return entries
