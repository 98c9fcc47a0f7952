"""The state of one contract: nothing but the fold of its events."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.axes import TerritoryKind


class Status(StrEnum):
    NONE = "NONE"  # no event yet
    PROPOSED = "PROPOSED"
    NEGOTIATING = "NEGOTIATING"
    DELIBERATED = "DELIBERATED"
    SIGNED = "SIGNED"
    IN_EXECUTION = "IN_EXECUTION"
    SUSPENDED = "SUSPENDED"
    CLOSING = "CLOSING"
    CLOSED = "CLOSED"
    TERMINATED = "TERMINATED"


class ContractState(BaseModel):
    model_config = ConfigDict(frozen=True)

    contract_id: str = ""
    status: Status = Status.NONE
    territory_id: str = ""
    territory_name: str = ""
    kind: TerritoryKind | None = None
    annual_ceiling: int = 0
    version: int = 0  # number of events folded
    request_ids: frozenset[str] = frozenset()


INITIAL_STATE = ContractState()
