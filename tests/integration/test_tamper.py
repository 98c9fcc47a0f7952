"""Tamper evidence: a superuser who bypasses the append-only trigger is still caught, and the first bad event named."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from eventstore.integrity import Anchor, take_anchor, verify
from eventstore.migrate import Conn
from eventstore.records import NewEvent
from eventstore.store import EventStore
from pacte.keyring import SESSIONS, load_or_create, write_private
from pacte.settings import Settings
from tests.integration.helpers import append_by_request
from tests.unit.builders import bordeaux_in_execution

pytestmark = pytest.mark.integration


async def seed(store: EventStore) -> None:
    """Two real contract histories (Bordeaux twice, under two stream names) and a third stream."""
    events = bordeaux_in_execution("reviewed").events
    await append_by_request(store, "cls-243300316", events)
    await append_by_request(store, "cls-zz-copy", events)
    await append_by_request(store, "cls-zz-third", events[:3])


async def as_superuser(store: EventStore, *statements: str) -> None:
    async with store.pool.acquire() as conn, conn.transaction():
        # Replica mode skips ordinary triggers: what an attacker with superuser rights would do.
        await conn.execute("SET LOCAL session_replication_role = replica")
        for statement in statements:
            await conn.execute(statement)


async def test_an_intact_store_verifies(fresh_store: EventStore) -> None:
    await seed(fresh_store)
    async with fresh_store.pool.acquire() as conn:
        report = await verify(conn)
        anchor = await take_anchor(conn)
        assert report.ok and report.streams == 3 and report.events == 2 * 11 + 3
        assert (await verify(conn, anchor)).ok
    # The store may grow after an anchor: still intact.
    await append_by_request(fresh_store, "cls-zz-third", bordeaux_in_execution("reviewed").events[3:5])
    async with fresh_store.pool.acquire() as conn:
        assert (await verify(conn, anchor)).ok


Tamper = Callable[[EventStore], Awaitable[None]]

CASES: list[tuple[str, list[str], str, int | None, str]] = [
    (
        "changed payload",
        [
            "UPDATE events SET payload = jsonb_set(payload, '{annual_ceiling}', '999999999') WHERE stream_id = 'cls-zz-copy' AND version = 1"
        ],
        "cls-zz-copy",
        1,
        "content altered",
    ),
    (
        "changed business timestamp",
        [
            "UPDATE events SET occurred_at = occurred_at - interval '1 day' WHERE stream_id = 'cls-243300316' AND version = 4"
        ],
        "cls-243300316",
        4,
        "content altered",
    ),
    (
        "changed record timestamp",
        [
            "UPDATE events SET recorded_at = recorded_at + interval '1 second' WHERE stream_id = 'cls-zz-third' AND version = 2"
        ],
        "cls-zz-third",
        2,
        "content altered",
    ),
    (
        "deleted event",
        ["DELETE FROM events WHERE stream_id = 'cls-zz-copy' AND version = 3"],
        "cls-zz-copy",
        3,
        "event missing",
    ),
    (
        "two swapped events",
        [
            "UPDATE events SET version = 1000 WHERE stream_id = 'cls-243300316' AND version = 5",
            "UPDATE events SET version = 5 WHERE stream_id = 'cls-243300316' AND version = 6",
            "UPDATE events SET version = 6 WHERE stream_id = 'cls-243300316' AND version = 1000",
        ],
        "cls-243300316",
        5,
        "chain broken",
    ),
    (
        "cut tail, head left alone",
        ["DELETE FROM events WHERE stream_id = 'cls-zz-copy' AND version = 11"],
        "cls-zz-copy",
        11,
        "cut tail",
    ),
]


@pytest.mark.parametrize(
    ("statements", "stream", "version", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_tampering_is_caught_and_named(
    fresh_store: EventStore, statements: list[str], stream: str, version: int | None, reason: str
) -> None:
    await seed(fresh_store)
    await as_superuser(fresh_store, *statements)
    async with fresh_store.pool.acquire() as conn:
        report = await verify(conn)
    assert not report.ok and report.first_problem is not None
    assert (report.first_problem.stream_id, report.first_problem.version) == (stream, version)
    assert reason in report.first_problem.reason


async def anchored_then(store: EventStore, *statements: str) -> tuple[Conn, Anchor]:
    await seed(store)
    async with store.pool.acquire() as conn:
        anchor = await take_anchor(conn)
    await as_superuser(store, *statements)
    return conn, anchor


async def test_a_deleted_stream_is_caught_by_the_anchor(fresh_store: EventStore) -> None:
    _, anchor = await anchored_then(
        fresh_store,
        "DELETE FROM events WHERE stream_id = 'cls-zz-third'",
        "DELETE FROM streams WHERE stream_id = 'cls-zz-third'",
    )
    async with fresh_store.pool.acquire() as conn:
        assert (await verify(conn)).ok  # nothing inside the database shows it...
        report = await verify(conn, anchor)  # ...the anchor does
    assert not report.ok and report.first_problem is not None
    assert report.first_problem.stream_id == "cls-zz-third" and "stream deleted" in report.first_problem.reason


async def test_a_consistently_cut_tail_is_caught_by_the_anchor(fresh_store: EventStore) -> None:
    _, anchor = await anchored_then(fresh_store, "DELETE FROM events WHERE stream_id = 'cls-zz-copy' AND version = 11")
    async with fresh_store.pool.acquire() as conn:
        prev = await conn.fetchval("SELECT hash FROM events WHERE stream_id = 'cls-zz-copy' AND version = 10")
    await as_superuser(
        fresh_store,
        f"UPDATE streams SET version = 10, head_hash = '\\x{bytes(prev).hex()}' WHERE stream_id = 'cls-zz-copy'",
    )
    async with fresh_store.pool.acquire() as conn:
        assert (await verify(conn)).ok
        report = await verify(conn, anchor)
    assert not report.ok and report.first_problem is not None
    assert (report.first_problem.stream_id, report.first_problem.version) == ("cls-zz-copy", 11)
    assert "tail cut" in report.first_problem.reason


async def test_an_altered_anchor_is_refused(fresh_store: EventStore) -> None:
    await seed(fresh_store)
    async with fresh_store.pool.acquire() as conn:
        anchor = await take_anchor(conn)
        forged = anchor.model_copy(update={"streams": {k: v for k, v in anchor.streams.items() if k != "cls-zz-third"}})
        report = await verify(conn, forged)
    assert not report.ok and report.first_problem is not None and "anchor file itself" in report.first_problem.reason


async def test_verify_during_appends_never_raises_a_false_alarm(fresh_store: EventStore) -> None:
    """Heads and events are read in one snapshot: appends committing while verify runs are simply not seen."""
    store = fresh_store
    stream = "probe-verify"  # not a contract's stream: plain events, no projection
    versions = {"v": 0}
    stop = asyncio.Event()

    async def writer() -> None:
        while not stop.is_set():
            v = versions["v"]
            event = NewEvent(
                event_id=uuid.uuid4(),
                event_type="Noted",
                payload={"n": v},
                occurred_at=datetime.now(UTC),
            )
            await store.append(stream, v, [event])
            versions["v"] = v + 1
            await asyncio.sleep(0)

    task = asyncio.create_task(writer())
    verified = 0
    try:
        # Until the appends have really raced the verifications (bounded in count, whatever the machine's speed).
        while verified < 400 and (verified < 30 or versions["v"] < 30):
            async with store.pool.acquire() as conn:
                report = await verify(conn)
            assert report.ok, report.first_problem
            verified += 1
    finally:
        stop.set()
        await task
    assert versions["v"] >= 30 or verified == 400


async def test_a_forged_or_unsigned_anchor_is_refused(fresh_store: EventStore) -> None:
    """Anchors are signed with a key kept outside the database: rewriting the store and recomputing the chain, then
    an anchor to match, does not verify without the key."""
    await seed(fresh_store)
    key, other = b"k" * 32, b"o" * 32
    async with fresh_store.pool.acquire() as conn:
        anchor = await take_anchor(conn, key)
        assert anchor.signature and (await verify(conn, anchor, key)).ok
        stream, head = next(iter(anchor.streams.items()))
        forged_heads = {**anchor.streams, stream: head.model_copy(update={"hash": "00" * 32})}
        forged = anchor.model_copy(update={"streams": forged_heads, "digest": Anchor.digest_of(forged_heads)})
        for bad_anchor, bad_key in (
            (forged, key),
            (anchor, other),
            (anchor.model_copy(update={"signature": None}), key),
        ):
            report = await verify(conn, bad_anchor, bad_key)
            assert not report.ok and report.first_problem is not None
            assert report.first_problem.stream_id == "(anchor)" and "signature" in report.first_problem.reason


async def test_a_re_dated_anchor_is_refused_and_an_old_format_one_is_reported(fresh_store: EventStore) -> None:
    """The signature covers the anchor's taken_at (issue 25, item 10): an anchor moved to another date, to pass for
    older than a rewrite, no longer verifies. An anchor of the first format (its signature covers the heads only)
    still verifies, and the report says its date is not covered."""
    from datetime import timedelta

    await seed(fresh_store)
    key = b"k" * 32
    async with fresh_store.pool.acquire() as conn:
        anchor = await take_anchor(conn, key)
        assert (await verify(conn, anchor, key)).ok
        re_dated = anchor.model_copy(update={"taken_at": anchor.taken_at - timedelta(days=400)})
        report = await verify(conn, re_dated, key)
        assert not report.ok and report.first_problem is not None
        assert report.first_problem.stream_id == "(anchor)" and "signature" in report.first_problem.reason
        # An anchor exported before the date was signed: the JSON as it was written then, with no format.
        old = anchor.model_dump(mode="json", exclude={"format"})
        old["signature"] = hmac.new(key, anchor.digest.encode(), hashlib.sha256).hexdigest()
        report = await verify(conn, Anchor.model_validate(old), key)
        assert report.ok and report.notes and "taken_at" in report.notes[0] and "not proven" in report.notes[0]


async def test_anchors_are_signed_by_the_keyring_and_verify_across_its_rotation(
    fresh_store: EventStore, tmp_path: Path
) -> None:
    """One keyring (issue 25, item 7): a new anchor names the keyring key that signed it; after a rotation it still
    verifies (the old key stays to open what it signed) and a new one names the new key; once the old key is removed
    from the keyring, its anchors no longer verify. An anchor of before the keyring (no key named) verifies with the
    anchor key file, as before."""
    await seed(fresh_store)
    path = tmp_path / "keyring.json"
    settings = Settings(keyring_file=path, data_dir=tmp_path)
    async with fresh_store.pool.acquire() as conn:
        key_id, key = settings.anchor_signing_key()
        first = await take_anchor(conn, key, key_id)
        assert first.key_id == load_or_create(path).active
        write_private(path, load_or_create(path).rotated("k2"))
        assert (await verify(conn, first, settings.anchor_key_for(first.key_id))).ok
        key_id, key = settings.anchor_signing_key()
        second = await take_anchor(conn, key, key_id)
        assert second.key_id == "k2" and (await verify(conn, second, settings.anchor_key_for("k2"))).ok
        write_private(path, load_or_create(path).without(str(first.key_id)))
        report = await verify(conn, first, settings.anchor_key_for(first.key_id))
        assert not report.ok and report.first_problem is not None and "signature" in report.first_problem.reason
        legacy = await take_anchor(conn, settings.anchor_key())  # names no key: the anchor key file's
        assert legacy.key_id is None and (await verify(conn, legacy, settings.anchor_key_for(None))).ok


def test_the_session_key_comes_from_the_keyring_and_changes_with_its_rotation(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    settings = Settings(keyring_file=path, data_dir=tmp_path)
    before = settings.session_key()
    assert before == load_or_create(path).derive(SESSIONS).hex()
    write_private(path, load_or_create(path).rotated("k2"))
    assert settings.session_key() != before
