"""The request ids a contract has seen, kept so that a repeated request yields no new event.

A plain frozenset would be copied at every event (the state is immutable): folding n events would cost O(n²).
RequestIds is a view (a shared, append-only index and a length) over the ids in first-seen order: extending the
newest state appends in place, in O(1); extending an older state (a branch) copies its prefix. Older views never see
ids appended after them, so every state stays exactly what its own history says.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema


class RequestIds:
    __slots__ = ("_count", "_index")

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._index: dict[str, int] = {}
        for request_id in ids:
            self._index.setdefault(request_id, len(self._index))
        self._count = len(self._index)

    @classmethod
    def _view(cls, index: dict[str, int], count: int) -> RequestIds:
        view = cls.__new__(cls)
        view._index, view._count = index, count
        return view

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
            self._index[request_id] = self._count
            return RequestIds._view(self._index, self._count + 1)
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
