"""Commands: what an operator (or the system) asks of a contract. One class per kind."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from domain.messages import CommandBase
from domain.money import Cents


class ProposeContract(CommandBase):
    type: Literal["ProposeContract"] = "ProposeContract"
    territory_id: str = Field(min_length=1, max_length=20)
    annual_ceiling: Cents


Command = Annotated[ProposeContract, Field(discriminator="type")]

COMMAND_ADAPTER: TypeAdapter[Command] = TypeAdapter(Command)
