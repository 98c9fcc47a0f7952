"""Pacte's one keyring: the secrets that seal Temporal's payloads, sign the web sessions and the audit anchors.

A keyring is a few named 32-byte keys, one of them active. What needs a key derives its own from a keyring key and
its purpose (HKDF-SHA256), so one secret never serves two purposes. The active key seals and signs; the others only
open what they sealed before (rotation: add a key, make it active, keep the old ones as long as something they
sealed is still read). The file is JSON, private (0600), kept outside the database and outside Temporal::

    {"active": "k2", "keys": {"k1": "<64 hex digits>", "k2": "<64 hex digits>"}}
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,40}$")

# What each key is derived for: a derived key never serves two of these.
CODEC = "temporal-payload-codec"
SESSIONS = "web-sessions"
ANCHORS = "audit-anchors"


class KeyringError(ValueError):
    pass


@dataclass(frozen=True)
class Keyring:
    active: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise KeyringError(f"the active key {self.active!r} is not in the keyring")
        for key_id, key in self.keys.items():
            if not KEY_ID.match(key_id):
                raise KeyringError(f"key id {key_id!r}: letters, digits, '.', '_', '-' (40 at most)")
            if len(key) != 32:
                raise KeyringError(f"key {key_id!r}: 32 bytes (64 hex digits), not {len(key)}")

    def derive(self, purpose: str, key_id: str | None = None) -> bytes:
        """The 32-byte key for ``purpose`` from the keyring key ``key_id`` (the active one by default)."""
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"pacte/{purpose}".encode()).derive(
            self.keys[key_id or self.active]
        )

    def rotated(self, key_id: str | None = None) -> Keyring:
        """This keyring with a new key, made active; the old keys stay, to open what they sealed."""
        new_id = key_id or datetime.now(UTC).strftime("k%Y%m%d%H%M%S")
        if new_id in self.keys:
            raise KeyringError(f"the keyring already has a key {new_id!r}")
        return Keyring(active=new_id, keys={**self.keys, new_id: secrets.token_bytes(32)})

    def without(self, key_id: str) -> Keyring:
        """This keyring without an old key (once nothing it sealed is read any more); never the active one."""
        if key_id == self.active:
            raise KeyringError("the active key cannot be removed: rotate first")
        return Keyring(active=self.active, keys={k: v for k, v in self.keys.items() if k != key_id})

    @classmethod
    def generate(cls, key_id: str = "k1") -> Keyring:
        return cls(active=key_id, keys={key_id: secrets.token_bytes(32)})

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        try:
            data = json.loads(text)
            keys = {str(k): bytes.fromhex(v) for k, v in dict(data["keys"]).items()}
            return cls(active=str(data["active"]), keys=keys)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyringError(f"not a keyring ({{'active': id, 'keys': {{id: hex}}}}): {exc}") from None

    def to_json(self) -> str:
        return json.dumps({"active": self.active, "keys": {k: v.hex() for k, v in self.keys.items()}}, indent=2)


def write_private(path: Path, keyring: Keyring) -> None:
    """Write the keyring file, private (0600) from its first byte; replaces the file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(keyring.to_json())
    os.replace(temporary, path)


def load_or_create(path: Path) -> Keyring:
    """The keyring in ``path``; a new one (0600) when there is none yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:  # another process created it meanwhile: use theirs
            return Keyring.from_json(path.read_text())
        with os.fdopen(fd, "w") as handle:
            handle.write(Keyring.generate().to_json())
    return Keyring.from_json(path.read_text())
