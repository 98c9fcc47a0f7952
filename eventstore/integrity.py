"""Tamper evidence: recompute every hash and chain, and check exported anchors of all stream heads.

``verify`` walks every stream in version order and names the first bad event: a changed payload or timestamp (hash
mismatch), a deleted or swapped event (broken chain or version gap), a stream head that does not match its last
event (cut tail). A stream deleted whole, with its head, leaves no trace inside the database: an ``anchor`` exported
earlier (a digest of all stream heads, kept elsewhere) catches it, and a tail cut back consistently too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from eventstore.hashing import GENESIS, chain, content_text, text_digest
from eventstore.migrate import Conn


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    stream_id: str
    version: int | None
    reason: str


class VerifyReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    ok: bool
    streams: int
    events: int
    first_problem: Finding | None = None
    # What the auditor should know although nothing is wrong (an anchor of an older format, what it does not prove).
    notes: list[str] = []


class StreamHead(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: int
    hash: str  # hex


class Anchor(BaseModel):
    model_config = ConfigDict(frozen=True)

    taken_at: datetime
    streams: dict[str, StreamHead]
    digest: str
    # HMAC-SHA256 with a key kept outside the database (PACTE_ANCHOR_KEY_FILE): whoever can rewrite the store and
    # recompute its chain still cannot forge an anchor that verifies. Format 2 signs the date with the heads' digest
    # (an anchor re-dated to pass for older than a rewrite no longer verifies); format 1, the digest alone. An
    # anchor exported before formats existed has none: it is format 1.
    format: int = 1
    signature: str | None = None
    # Which key of Pacte's keyring signed it (the keyring rotates, the anchor keeps its key's name); none: signed with
    # the anchor key file of versions before the keyring.
    key_id: str | None = None

    def signed(self, key: bytes) -> Anchor:
        dated = self.model_copy(update={"format": ANCHOR_FORMAT})
        return dated.model_copy(update={"signature": dated.expected_signature(key)})

    def signed_text(self) -> bytes:
        if self.format == 1:
            return self.digest.encode()
        stamp = self.taken_at.astimezone(UTC).isoformat(timespec="microseconds")
        return json.dumps(
            {"digest": self.digest, "format": self.format, "taken_at": stamp}, sort_keys=True, separators=(",", ":")
        ).encode()

    def expected_signature(self, key: bytes) -> str:
        return hmac.new(key, self.signed_text(), hashlib.sha256).hexdigest()

    @staticmethod
    def digest_of(streams: dict[str, StreamHead]) -> str:
        canonical = json.dumps(
            {k: [v.version, v.hash] for k, v in sorted(streams.items())}, sort_keys=True, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


async def _events(conn: Conn) -> AsyncIterator[Any]:
    # A cursor, in stream then version order: the whole store is verified in bounded memory.
    async for row in conn.cursor(
        """SELECT stream_id, version, event_id, event_type, schema_version, payload, metadata, occurred_at,
                  recorded_at, prev_hash, hash, canonical
           FROM events ORDER BY stream_id, version"""
    ):
        yield row


ANCHOR_FORMAT = 2
FORMAT_1_NOTE = (
    "anchor of format 1: its signature covers the stream heads but not its taken_at, so the date it shows is not "
    "proven; take a new anchor (format 2 signs the date too) and keep it with this one"
)


async def verify(conn: Conn, anchor: Anchor | None = None, key: bytes | None = None) -> VerifyReport:
    """Everything recomputed; with ``anchor``, its heads checked too; with ``key``, the anchor must carry the
    signature only that key makes (an unsigned or forged anchor is refused)."""
    seen: dict[str, tuple[int, bytes]] = {}
    heads: dict[str, tuple[int, bytes]] = {}
    count = 0

    def bad(stream: str, version: int | None, reason: str) -> VerifyReport:
        return VerifyReport(
            ok=False,
            streams=len(seen),
            events=count,
            first_problem=Finding(stream_id=stream, version=version, reason=reason),
        )

    # One snapshot for the heads and the events: read apart, an append in between looked like a cut tail.
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        for r in await conn.fetch("SELECT stream_id, version, head_hash FROM streams"):
            heads[r["stream_id"]] = (r["version"], bytes(r["head_hash"]))
        current: str | None = None
        expected_version, prev = 0, GENESIS
        async for row in _events(conn):
            count += 1
            stream = row["stream_id"]
            if stream != current:
                if current is not None:
                    seen[current] = (expected_version, prev)
                current, expected_version, prev = stream, 0, GENESIS
            expected_version += 1
            if row["version"] != expected_version:
                return bad(
                    stream,
                    expected_version,
                    f"event missing: found version {row['version']} where {expected_version} was expected",
                )
            if bytes(row["prev_hash"]) != prev:
                return bad(
                    stream,
                    row["version"],
                    "chain broken: prev_hash is not the hash of the previous event (deleted or swapped event)",
                )
            text = content_text(
                stream_id=stream,
                version=row["version"],
                event_id=row["event_id"],
                event_type=row["event_type"],
                schema_version=row["schema_version"],
                payload=row["payload"],
                metadata=row["metadata"],
                occurred_at=row["occurred_at"],
            )
            digest = chain(prev, text_digest(text), row["recorded_at"])
            if digest != bytes(row["hash"]):
                return bad(
                    stream, row["version"], "content altered: the stored hash does not match the event's content"
                )
            # Since migration 013 the database hashes the canonical text it keeps (NULL before): it must be this
            # event's canonical text, the one recomputed here from the columns.
            if row["canonical"] is not None and row["canonical"] != text:
                return bad(
                    stream,
                    row["version"],
                    "canonical text altered: the text kept with the event is not its canonical form",
                )
            prev = digest
        if current is not None:
            seen[current] = (expected_version, prev)

        for stream, (version, head_hash) in sorted(seen.items()):
            recorded = heads.get(stream)
            if recorded is None:
                return bad(stream, None, "stream head missing from the streams table")
            if recorded != (version, head_hash):
                return bad(
                    stream,
                    recorded[0],
                    f"stream head says version {recorded[0]}, its events end at {version} (cut tail)",
                )
        for stream in sorted(set(heads) - set(seen)):
            return bad(stream, None, "stream head present but its events are gone")

        if anchor is not None:
            if Anchor.digest_of(anchor.streams) != anchor.digest:
                return bad("(anchor)", None, "the anchor file itself was altered: its digest does not match its heads")
            if anchor.format not in (1, ANCHOR_FORMAT):
                return bad("(anchor)", None, f"anchor format {anchor.format} is unknown to this version of Pacte")
            if key is not None and (
                anchor.signature is None or not hmac.compare_digest(anchor.signature, anchor.expected_signature(key))
            ):
                return bad(
                    "(anchor)",
                    None,
                    "the anchor's signature does not match: it is unsigned, forged, or signed with another key",
                )
            for stream, head in sorted(anchor.streams.items()):
                if stream not in seen:
                    return bad(stream, head.version, "stream deleted: the anchor knows it, the store does not")
                version_now = seen[stream][0]
                if version_now < head.version:
                    return bad(
                        stream,
                        head.version,
                        f"tail cut: the anchor saw version {head.version}, the store ends at {version_now}",
                    )
                stored = await conn.fetchval(
                    "SELECT hash FROM events WHERE stream_id = $1 AND version = $2", stream, head.version
                )
                if stored is None or bytes(stored).hex() != head.hash:
                    return bad(
                        stream, head.version, "history rewritten since the anchor: the head it saw has another hash"
                    )
    notes = [FORMAT_1_NOTE] if anchor is not None and anchor.format == 1 else []
    return VerifyReport(ok=True, streams=len(seen), events=count, notes=notes)


async def take_anchor(conn: Conn, key: bytes | None = None, key_id: str | None = None) -> Anchor:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        rows = await conn.fetch("SELECT stream_id, version, head_hash FROM streams ORDER BY stream_id")
        taken_at = await conn.fetchval("SELECT now()")
    streams = {r["stream_id"]: StreamHead(version=r["version"], hash=bytes(r["head_hash"]).hex()) for r in rows}
    anchor = Anchor(
        taken_at=taken_at, streams=streams, digest=Anchor.digest_of(streams), format=ANCHOR_FORMAT, key_id=key_id
    )
    return anchor.signed(key) if key is not None else anchor
