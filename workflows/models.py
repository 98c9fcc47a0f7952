"""Inputs and outputs of the workflows (pydantic, through the pydantic data converter)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.commands import Command
from domain.policy import DEFAULT_POLICY, Policy
from domain.state import ContractState


class ContractWorkflowInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    contract_id: str
    state: ContractState | None = None  # carried across continue-as-new
    policy: Policy = DEFAULT_POLICY
    # Business time = workflow time + this offset. Zero in production; a simulation of 2024–2027 on the
    # time-skipping test server starts its clock in 2023 with it.
    clock_offset_s: float = 0.0
    reminded: tuple[str, ...] = ()  # deadline keys whose reminder is already in the outbox


class CommandRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    command: Command


class CommandResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: int
    events: list[dict[str, Any]]
    state: ContractState
