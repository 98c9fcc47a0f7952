"""The request ids a contract has seen, kept so that a repeated request yields no new event.

A plain frozenset would be copied at every event (the state is immutable): folding n events would cost O(n²).
RequestIds is a view (a shared, append-only index and a length) over the ids in first-seen order: extending the
newest state appends in place, in O(1); extending an older state (a branch) copies its prefix. Older views never see
ids appended after them, so every state stays exactly what its own history says.

A client's idempotency key becomes the request id ``<key>#<digest of the command>``: the same command sent again with
the same key is the same request (no new event), while the same key on a different command is caught as a reuse
instead of being answered with what the first command did.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

KEY_SEPARATOR = "#"


def keyed_request_id(key: str, command_content: dict[str, Any]) -> str:
    """The request id for a client's idempotency key and the command's content (without its request id and time)."""
    canonical = json.dumps(command_content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return f"{key}{KEY_SEPARATOR}{hashlib.sha256(canonical.encode()).hexdigest()[:16]}"


def key_of(request_id: str) -> str | None:
    """The client's idempotency key inside a request id; None for a request id made without one."""
    key, separator, _ = request_id.rpartition(KEY_SEPARATOR)
    return key if separator else None


class RequestIds:
    __slots__ = ("_count", "_index", "_keys")

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._index: dict[str, int] = {}
        self._keys: dict[str, int] = {}  # idempotency key -> position of the first request id that carried it
        for request_id in ids:
            self._append(request_id)
        self._count = len(self._index)

    def _append(self, request_id: str) -> None:
        if request_id not in self._index:
            position = len(self._index)
            self._index[request_id] = position
            key = key_of(request_id)
            if key is not None:
                self._keys.setdefault(key, position)

    @classmethod
    def _view(cls, index: dict[str, int], keys: dict[str, int], count: int) -> RequestIds:
        view = cls.__new__(cls)
        view._index, view._keys, view._count = index, keys, count
        return view

    def key_reused(self, request_id: str) -> bool:
        """True when this request id's idempotency key was already used by a different request."""
        key = key_of(request_id)
        if key is None or request_id in self:
            return False
        position = self._keys.get(key)
        return position is not None and position < self._count

    def __contains__(self, request_id: object) -> bool:
        position = self._index.get(request_id) if isinstance(request_id, str) else None
        return position is not None and position < self._count

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        for request_id, position in self._index.items():  # dicts keep insertion order: position order
            if position >= self._count:
                break
            yield request_id

    def add(self, request_id: str) -> RequestIds:
        if request_id in self:
            return self
        if len(self._index) == self._count:  # the newest view: extend the shared index in place
            self._append(request_id)
            return RequestIds._view(self._index, self._keys, self._count + 1)
        return RequestIds([*self, request_id])  # a branch from an older state: copy its prefix

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RequestIds):
            return self._count == other._count and list(self) == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"RequestIds({list(self)!r})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        from_list = core_schema.no_info_after_validator_function(cls, core_schema.list_schema(core_schema.str_schema()))
        return core_schema.json_or_python_schema(
            json_schema=from_list,
            python_schema=core_schema.union_schema([core_schema.is_instance_schema(cls), from_list]),
            serialization=core_schema.plain_serializer_function_ser_schema(
                list, return_schema=core_schema.list_schema()
            ),
        )
