"""The scheduled operations' activities (workflows/operations.py): the nightly verify that takes a signed anchor, and
the relay of the reminders outbox. Both run in the worker, as the runtime role (it reads everything and writes the
outbox); what they keep outside the database (anchors, relayed reminders) goes to files the worker's settings name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import RELAY_REMINDERS, VERIFY_AND_ANCHOR, RelayRequest, RelayResult, VerifyResult
from eventstore.integrity import Anchor, take_anchor, verify
from eventstore.store import EventStore
from pacte import metrics

log = structlog.stdlib.get_logger("pacte.operations")


def latest_anchor(directory: Path) -> Path | None:
    """The newest anchor the nightly verify wrote (their names sort by the moment they were taken)."""
    found = sorted(directory.glob("anchor-*.json")) if directory.is_dir() else []
    return found[-1] if found else None


def _write_durably(path: Path, text: str, *, append: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_EXCL)
    fd = os.open(path, flags, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


class OperationsActivities:
    def __init__(
        self,
        store: EventStore,
        anchors_dir: Path,
        signing_key: Callable[[], tuple[str | None, bytes]],
        key_for: Callable[[str | None], bytes],
        relay_file: Path,
    ) -> None:
        """``signing_key``: the key id and key a new anchor is signed with (the keyring's active key);
        ``key_for``: the key that verifies an anchor naming that key id (None: an anchor of before the keyring)."""
        self.store = store
        self.anchors_dir = anchors_dir
        self.signing_key = signing_key
        self.key_for = key_for
        self.relay_file = relay_file

    @activity.defn(name=VERIFY_AND_ANCHOR)
    async def verify_and_anchor(self) -> VerifyResult:
        """Verify the whole store against the last anchor (signed, checked with the key); intact, take a new signed
        anchor and write it beside the others. Tampered: no anchor is written (a new one would bless the rewrite), the
        tamper counter moves and the run fails, naming the first bad event."""
        key_id, key = self.signing_key()
        previous = latest_anchor(self.anchors_dir)
        anchor = Anchor.model_validate_json(previous.read_text()) if previous is not None else None
        async with self.store.pool.acquire() as conn:
            report = await verify(conn, anchor, self.key_for(anchor.key_id) if anchor is not None else None)
            metrics.VERIFY_RUNS.labels("intact" if report.ok else "tampered").inc()
            if not report.ok:
                log.error(
                    "nightly verify: store tampered",
                    finding=report.first_problem.model_dump() if report.first_problem else None,
                    anchor=str(previous) if previous else None,
                )
                raise ApplicationError(
                    f"the event store does not verify: {report.first_problem}", type="StoreTampered", non_retryable=True
                )
            taken = await take_anchor(conn, key, key_id)
        stamp = taken.taken_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.anchors_dir / f"anchor-{stamp}.json"
        if not path.exists():  # an activity retried after writing it: the same anchor, kept once
            _write_durably(path, taken.model_dump_json(indent=2))
        log.info(
            "nightly verify: intact, anchor taken",
            streams=report.streams,
            events=report.events,
            anchor=str(path),
            checked_against=str(previous) if previous else None,
        )
        return VerifyResult(
            streams=report.streams,
            events=report.events,
            anchor=str(path),
            digest=taken.digest,
            checked_against=str(previous) if previous else None,
        )

    @activity.defn(name=RELAY_REMINDERS)
    async def relay_reminders(self, request: RelayRequest) -> RelayResult:
        """Every reminder due by ``request.today`` and not sent yet: one JSON line appended (and synced) to the relay
        file a mailer reads, then marked sent. At least once: a crash between the two relays it again, which is
        harmless (a reminder is one row per deadline, its key in the line)."""
        rows = await self.store.pool.fetch(
            """SELECT contract_id, deadline, year, due, remind_on FROM reminders
               WHERE sent_at IS NULL AND remind_on <= $1 ORDER BY remind_on, contract_id, deadline, year
               LIMIT $2""",
            request.today,
            request.limit,
        )
        if not rows:
            return RelayResult(relayed=0)
        lines = "".join(
            json.dumps(
                {
                    "contract_id": r["contract_id"],
                    "deadline": r["deadline"],
                    "year": r["year"] or None,
                    "due": r["due"].isoformat(),
                    "remind_on": r["remind_on"].isoformat(),
                    "relayed_at": datetime.now(UTC).isoformat(),
                },
                sort_keys=True,
            )
            + "\n"
            for r in rows
        )
        _write_durably(self.relay_file, lines, append=True)
        await self.store.pool.execute(
            """UPDATE reminders SET sent_at = now()
               FROM unnest($1::text[], $2::text[], $3::int[]) AS r(contract_id, deadline, year)
               WHERE reminders.contract_id = r.contract_id AND reminders.deadline = r.deadline
                 AND reminders.year = r.year AND reminders.sent_at IS NULL""",
            [r["contract_id"] for r in rows],
            [r["deadline"] for r in rows],
            [r["year"] for r in rows],
        )
        log.info("reminders relayed", relayed=len(rows), file=str(self.relay_file))
        return RelayResult(relayed=len(rows))
