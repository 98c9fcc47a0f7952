"""Events: the facts recorded in the event store. One class per kind, each with a schema version."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from domain.axes import TerritoryKind
from domain.messages import EventBase
from domain.money import Cents


class ContractProposed(EventBase):
    type: Literal["ContractProposed"] = "ContractProposed"
    territory_id: str
    territory_name: str
    kind: TerritoryKind
    annual_ceiling: Cents


Event = Annotated[ContractProposed, Field(discriminator="type")]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
