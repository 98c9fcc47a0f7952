"""The stages of a contract, from no fact at all to its end, and the sets of stages the rules name.

A module of its own because the state, the late facts and the rules all speak of stages, and none of them should have
to load the others to do so."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NONE = "NONE"  # no event yet: the decider's initial state
    PROPOSED = "PROPOSED"
    NEGOTIATING = "NEGOTIATING"
    DELIBERATED = "DELIBERATED"
    SIGNED = "SIGNED"
    IN_EXECUTION = "IN_EXECUTION"
    SUSPENDED = "SUSPENDED"
    CLOSING = "CLOSING"
    CLOSED = "CLOSED"
    TERMINATED = "TERMINATED"


# The terminal states, as one value: no command changes a contract in them.
FINAL_STATUSES = frozenset({Status.CLOSED, Status.TERMINATED})
NEGOTIABLE_STATUSES = frozenset({Status.PROPOSED, Status.NEGOTIATING})
RUNNING_STATUSES = frozenset({Status.IN_EXECUTION, Status.SUSPENDED})
SIGNED_STATUSES = frozenset({Status.SIGNED, *RUNNING_STATUSES, Status.CLOSING})
LIVE_STATUSES = frozenset(set(Status) - FINAL_STATUSES - {Status.NONE})
