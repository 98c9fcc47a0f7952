"""Inputs and outputs of the workflows (pydantic, through the pydantic data converter)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.actors import Actor
from domain.commands import Command
from domain.policy import DEFAULT_POLICY, Policy
from domain.reprise import ImportLine
from domain.state import ContractState
from domain.territories import Territory


class ContractWorkflowInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    contract_id: str
    state: ContractState | None = None  # carried across continue-as-new
    policy: Policy = DEFAULT_POLICY
    # Business time = workflow time + this offset. Zero in production; a simulation of 2024–2027 on the
    # time-skipping test server starts its clock in 2023 with it.
    clock_offset_s: float = 0.0
    reminded: tuple[str, ...] = ()  # deadline keys whose reminder is already in the outbox
    append_total_s: float = 60.0  # the bounded total of one append's retries
    # Request ids of appends whose outcome is not known yet (their answer was lost and the store could not be read
    # back): the next run reads its stream first and folds those that were recorded.
    unsettled: tuple[str, ...] = ()
    propose: Command | None = None  # a campaign starts a contract with its proposal
    # Upsert the contract's search attributes (status, territory, kind, région, year) for Temporal's Web UI; only
    # where they are registered (pacte dev registers them; on a cluster, `pacte search-attributes`).
    search_attributes: bool = False
    # Territories this contract may be proposed for beyond the reference list (a simulation's synthetic
    # intercommunalités); only the proposal reads them, the state holds the territory from then on.
    territories: tuple[Territory, ...] = ()


class CommandRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    command: Command


class ImportRequest(BaseModel):
    """The parsed lines of one contract's history (see domain/reprise.py)."""

    model_config = ConfigDict(frozen=True)

    lines: tuple[ImportLine, ...]


class ImportFileUpdate(BaseModel):
    """An import file kept in the store (``EventStore.put_import_file``), named by its SHA-256."""

    model_config = ConfigDict(frozen=True)

    digest: str = Field(pattern=r"^[0-9a-f]{64}$")


class CommandResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: int
    events: list[dict[str, Any]]
    # Not sent by the workflow (an update's answer is kept in the history: the whole state at every step was 7 kB on
    # average, 1.2 MB at the caps); the service reads the state after the update and fills it in for its callers.
    state: ContractState | None = None
    recorded: int | None = None  # an import file's answer: how many events it recorded (``events`` stays empty)


class CampaignInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    campaign_id: str
    territories: tuple[str, ...]
    annual_ceiling: int  # cents, for every territory of the campaign
    ceilings: dict[str, int] = {}  # cents, per territory, overriding annual_ceiling
    actor: Actor
    request_prefix: str
    at: datetime
    policy: Policy = DEFAULT_POLICY
    clock_offset_s: float = 0.0
    poll_seconds: int = 5  # how often a campaign looks for its answers
    search_attributes: bool = False  # passed to the contracts it starts (see ContractWorkflowInput)


class CampaignProgress(BaseModel):
    model_config = ConfigDict(frozen=True)

    campaign_id: str = ""
    complete: bool = False  # every territory has its final answer: created, existing or refused
    territories: list[str] = []
    started: list[str] = []  # contracts this campaign proposed (created once they are in the record)
    existing: list[str] = []  # already there: re-running a campaign changes nothing
    refused: dict[str, str] = {}  # territory -> the rule that refused it
    proposed: int = 0
    signed: int = 0  # deliberated and signing, or signed
    in_execution: int = 0
    late: int = 0  # with a missed deadline recorded, not yet closed
    closed: int = 0
    terminated: int = 0
    as_of: datetime | None = None
