"""Pacte's payload codec and keyring (pacte/codec.py, pacte/keyring.py): sealing, rotation, refusal."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import WorkflowSerializationContext
from temporalio.exceptions import ApplicationError

from pacte.codec import KEY_ID, SEALED, PacteCodec, data_converter
from pacte.keyring import Keyring, KeyringError, load_or_create
from pacte.settings import Settings

PERSON = {"name": "Jeanne Secretdenom", "email": "jeanne@lot.gouv.fr"}


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_a_payload_is_sealed_names_its_key_and_opens_with_the_keyring() -> None:
    converter = data_converter(Keyring.generate("k1"))
    (sealed,) = run(converter.encode([PERSON]))
    assert sealed.metadata["encoding"] == SEALED and sealed.metadata[KEY_ID] == b"k1"
    assert b"Jeanne" not in sealed.SerializeToString() and b"lot.gouv" not in sealed.SerializeToString()
    assert run(converter.decode([sealed])) == [PERSON]
    again = run(converter.encode([PERSON]))[0]
    assert again.data != sealed.data  # a fresh nonce each time


def test_rotation_old_payloads_open_new_ones_use_the_new_key_and_a_removed_key_opens_nothing() -> None:
    old = Keyring.generate("k1")
    (before,) = run(data_converter(old).encode([PERSON]))
    rotated = old.rotated("k2")
    converter = data_converter(rotated)
    assert run(converter.decode([before])) == [PERSON]
    (after,) = run(converter.encode([PERSON]))
    assert after.metadata[KEY_ID] == b"k2"
    assert run(data_converter(rotated.without("k1")).decode([after])) == [PERSON]
    with pytest.raises(ApplicationError, match="not in Pacte's keyring") as refused:
        run(data_converter(rotated.without("k1")).decode([before]))
    assert refused.value.type == "payload_refused" and refused.value.non_retryable
    with pytest.raises(KeyringError):
        rotated.without("k2")  # the active key stays


@pytest.mark.parametrize("forgery", ["unsealed", "another key", "altered", "key id swapped"])
def test_what_pacte_did_not_seal_is_refused_not_raised_by_the_codec(forgery: str) -> None:
    """The codec never raises (a workflow task would retry forever): it hands back a refused payload, and converting
    that raises a non-retryable ApplicationError where the value is needed."""
    keyring = Keyring(active="k1", keys={"k1": os.urandom(32), "k2": os.urandom(32)})
    codec = PacteCodec(keyring)
    (sealed,) = run(codec.encode(data_converter(keyring).payload_converter.to_payloads([PERSON])))
    if forgery == "unsealed":
        payload = data_converter(keyring).payload_converter.to_payloads([PERSON])[0]
    elif forgery == "another key":
        payload = run(PacteCodec(Keyring(active="k1", keys={"k1": os.urandom(32)})).encode([sealed]))[0]
    elif forgery == "altered":
        payload = Payload(metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    else:
        payload = Payload(metadata={**sealed.metadata, KEY_ID: b"k2"}, data=sealed.data)
    (opened,) = run(codec.decode([payload]))
    assert opened.metadata["encoding"] == b"binary/pacte-refused"
    with pytest.raises(ApplicationError) as refused:
        data_converter(keyring).payload_converter.from_payloads([opened])
    assert refused.value.type == "payload_refused" and refused.value.non_retryable


def test_a_payload_sealed_for_one_workflow_is_refused_in_another() -> None:
    keyring = Keyring.generate()
    for_a = PacteCodec(keyring).with_context(WorkflowSerializationContext(namespace="default", workflow_id="cls-a"))
    in_b = PacteCodec(keyring).with_context(WorkflowSerializationContext(namespace="default", workflow_id="cls-b"))
    (sealed,) = run(for_a.encode([Payload(metadata={"encoding": b"json/plain"}, data=b"1")]))
    assert run(for_a.decode([sealed]))[0].data == b"1"
    assert run(PacteCodec(keyring).decode([sealed]))[0].data == b"1"  # the codec endpoint: no workflow given
    assert run(in_b.decode([sealed]))[0].metadata["encoding"] == b"binary/pacte-refused"


def test_only_the_replayer_of_old_histories_opens_unsealed_payloads() -> None:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b"1")
    assert run(PacteCodec(Keyring.generate(), open_unsealed=True).decode([plain])) == [plain]
    assert run(PacteCodec(Keyring.generate()).decode([plain]))[0].metadata["encoding"] == b"binary/pacte-refused"


def test_failures_messages_are_sealed_too() -> None:
    converter = data_converter(Keyring.generate())
    from temporalio.api.failure.v1 import Failure

    failure = Failure()
    run(converter.encode_failure(ApplicationError("Jeanne Secretdenom a signé", type="x"), failure))
    assert failure.message == "Encoded failure" and b"Jeanne" not in failure.SerializeToString()


def test_the_keyring_file_is_created_private_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "keyring.json"
    created = load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create(path) == created
    assert Settings(keyring_file=path).load_keyring() == created
    given = Keyring.generate("env")
    assert Settings(keyring=given.to_json(), keyring_file=path).load_keyring() == given  # type: ignore[arg-type]
