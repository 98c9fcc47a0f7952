"""Every payload that goes through Temporal is sealed with Pacte's keyring, and only what it sealed is opened.

Sealing: AES-256-GCM, a fresh 96-bit nonce per payload, the key derived from the keyring's active key
(pacte.keyring). The payload's metadata names the key (``pacte-key-id``) and the workflow it was sealed for
(``pacte-workflow-id``); both are authenticated (associated data), so a sealed payload taken from one contract's
history and sent to another is refused like a forged one.

Refusing, without wedging anything: a payload the keyring cannot open (not sealed, sealed with another key, altered,
sealed for another workflow) is not an error of the codec — that would fail the workflow task, and Temporal would retry
it forever, holding the contract. It is decoded to a *refused* payload instead, which the payload converter turns into
a non-retryable ``ApplicationError`` where the value is needed: an update is rejected (nothing recorded, the contract
keeps running), a workflow start fails that new workflow at once, a signal is dropped by the SDK (logged).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    DefaultFailureConverter,
    DefaultFailureConverterWithEncodedAttributes,
    EncodingPayloadConverter,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)
from temporalio.exceptions import ApplicationError

from domain.errors import DomainError
from pacte.keyring import CODEC, Keyring

SEALED = b"binary/pacte-sealed"
REFUSED = b"binary/pacte-refused"
KEY_ID = "pacte-key-id"
WORKFLOW_ID = "pacte-workflow-id"
NONCE_BYTES = 12


class PacteCodec(PayloadCodec, WithSerializationContext):
    """Seals with the keyring's active key, opens with any of its keys; ``open_unsealed`` (the replayer of histories
    recorded before payloads were sealed, and nothing else) lets unsealed payloads through as they are."""

    def __init__(self, keyring: Keyring, *, open_unsealed: bool = False, workflow_id: str | None = None) -> None:
        self.keyring = keyring
        self.open_unsealed = open_unsealed
        self.workflow_id = workflow_id
        self._ciphers = {key_id: AESGCM(keyring.derive(CODEC, key_id)) for key_id in keyring.keys}

    def with_context(self, context: SerializationContext) -> PacteCodec:
        workflow_id = None
        if isinstance(context, (WorkflowSerializationContext, ActivitySerializationContext)):
            workflow_id = context.workflow_id
        if workflow_id == self.workflow_id:
            return self
        codec = PacteCodec.__new__(PacteCodec)
        codec.keyring, codec.open_unsealed, codec.workflow_id = self.keyring, self.open_unsealed, workflow_id
        codec._ciphers = self._ciphers
        return codec

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(p) for p in payloads]

    def seal(self, payload: Payload) -> Payload:
        key_id = self.keyring.active
        workflow_id = self.workflow_id or ""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), _associated(key_id, workflow_id))
        metadata = {"encoding": SEALED, KEY_ID: key_id.encode()}
        if workflow_id:
            metadata[WORKFLOW_ID] = workflow_id.encode()
        return Payload(metadata=metadata, data=nonce + sealed)

    def open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != SEALED:
            return payload if self.open_unsealed else refused("not sealed with Pacte's key")
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        workflow_id = payload.metadata.get(WORKFLOW_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            return refused(f"sealed with a key not in Pacte's keyring ({key_id!r})")
        if self.workflow_id is not None and workflow_id and workflow_id != self.workflow_id:
            return refused(f"sealed for another workflow ({workflow_id!r})")
        data = payload.data
        try:
            opened = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], _associated(key_id, workflow_id))
        except (InvalidTag, ValueError):
            return refused(f"not opened by Pacte's key {key_id!r} (altered, or sealed with another key)")
        return Payload.FromString(opened)

    async def decode_json(self, body: bytes) -> dict[str, Any]:
        """The codec server protocol's decode: ``{"payloads": [...]}`` in protobuf JSON, opened (what the keyring
        cannot open comes back as a refused payload, its reason in its data). Raises ValueError on a bad body."""
        try:
            payloads = json_format.Parse(body, Payloads())
        except json_format.ParseError as exc:
            raise ValueError(f"not a JSON {{'payloads': [...]}}: {exc}") from None
        opened = json_format.MessageToDict(Payloads(payloads=await self.decode(payloads.payloads)))
        return {"payloads": opened.get("payloads", [])}


def _associated(key_id: str, workflow_id: str) -> bytes:
    return b"pacte-codec/1\x00" + key_id.encode() + b"\x00" + workflow_id.encode()


def refused(reason: str) -> Payload:
    """What a payload the keyring cannot open decodes to: converting it raises ``PayloadRefused`` (below)."""
    return Payload(metadata={"encoding": REFUSED}, data=reason.encode())


def payload_refused(reason: str) -> ApplicationError:
    error = DomainError(
        f"payload: refused, {reason}; only a payload sealed with Pacte's keyring is accepted",
        field="payload",
        code="payload_refused",
        rule="payload.not_sealed",
    )
    return ApplicationError(error.message, error.details(), type=error.code, non_retryable=True)


class RefusedPayloadConverter(EncodingPayloadConverter):
    """Converts nothing to a payload; a refused payload raises a non-retryable ApplicationError: an update is
    rejected, a workflow start fails its workflow, never a workflow task retried forever."""

    @property
    def encoding(self) -> str:
        return REFUSED.decode()

    def to_payload(self, value: Any) -> Payload | None:
        return None

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        raise payload_refused(payload.data.decode(errors="replace"))


class PactePayloadConverter(PydanticPayloadConverter):
    def __init__(self) -> None:
        super().__init__()
        self._set_converters(*self.converters.values(), RefusedPayloadConverter())


def data_converter(keyring: Keyring, *, open_unsealed: bool = False) -> DataConverter:
    """The one data converter of Pacte's clients, workers and replayers: pydantic payloads, sealed by the keyring,
    failures' messages and stack traces sealed too (encoded attributes)."""
    return DataConverter(
        payload_converter_class=PactePayloadConverter,
        payload_codec=PacteCodec(keyring, open_unsealed=open_unsealed),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def for_replay(converter: DataConverter) -> DataConverter:
    """The same converter for a Replayer: it opens and converts payloads exactly as the workers do, but its failures
    (a non-determinism, named by contract and version) are a local report that never reaches Temporal, so their
    messages stay readable instead of being sealed."""
    return dataclasses.replace(converter, failure_converter_class=DefaultFailureConverter)
