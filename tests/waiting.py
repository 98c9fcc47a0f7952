"""Waiting for a condition, never for a duration: the suite runs on a loaded 2-core machine (beside benchmarks,
another checkout's suite), where "it takes 0.3 s" is a guess and a sleep is a flake waiting to happen."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

GENEROUS_S = 60.0  # far beyond what any condition here needs on a quiet machine: only a real failure reaches it


async def eventually(
    probe: Callable[[], T | Awaitable[T]], *, within_s: float = GENEROUS_S, every_s: float = 0.05, what: str = ""
) -> T:
    """Call ``probe`` (sync or async) until it returns something truthy, and return that; fail after ``within_s``."""
    deadline = time.monotonic() + within_s
    while True:
        found = probe()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return found  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within_s:.0f} s: {what or getattr(probe, '__name__', 'condition')}")
        await asyncio.sleep(every_s)
