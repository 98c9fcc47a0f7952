"""Business time: when a fact happened, as a French date (Europe/Paris).

Record time (when Pacte learned a fact) is the database's clock and never enters the domain; the decider sees only
the business time of a command (``at``) and the moment it reached Pacte (``entered_at``, the workflow's clock), which
it uses for one rule alone: a fact cannot be dated in the future.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

PARIS = ZoneInfo("Europe/Paris")
# A fact given as a date alone is placed at noon in Paris: the same French date whatever the offset (CET or CEST),
# and after the system's own facts of that day, which are stamped at midnight UTC (1 or 2 a.m. in Paris).
NOON = time(12)


def business_date(moment: datetime) -> date:
    """The French date of a moment: 31 December 23:30 UTC is already 1 January in Paris."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS).date()


def start_of_day(day: date) -> datetime:
    """Midnight in Paris at the start of ``day``, as an aware datetime in UTC."""
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)


def end_of_day(day: date) -> datetime:
    """The last instant of ``day`` in Paris: "as of 30 June 2025" includes everything that happened that day."""
    return datetime.combine(day, time.max, tzinfo=PARIS).astimezone(UTC)


def occurred_at(value: date | datetime, now: datetime) -> datetime:
    """The business time of a fact given by an operator: a date alone is that day at noon in Paris, or now if it is
    today — a fact dated today is placed when it is typed, after the facts typed before it that day (at noon, a fact
    dated today and typed in the afternoon fell before those typed that morning, and was refused as out of order);
    a date-time without an offset is Paris time."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=PARIS)
        return moment.astimezone(UTC)
    if value == business_date(now):
        return now
    return datetime.combine(value, NOON, tzinfo=PARIS).astimezone(UTC)


def _iso(value: object) -> object:
    """ISO text only: "2024-03-28" is a date (that day in Paris), not midnight UTC, and a number is not a moment
    (pydantic would read "0.0" as 1 January 1970)."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError(
        "invalid_date",
        "an ISO date (2024-03-28) or date-time (2024-03-28T10:00:00+01:00)",
        {"value": str(value)[:40]},
    )


When = Annotated[
    datetime | date,
    BeforeValidator(_iso),
    Field(description="An ISO date (that day in Europe/Paris) or date-time (without an offset: Paris time)"),
]


def _iso_date(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("invalid_date", "an ISO date (2024-03-28)", {"value": str(value)[:40]})


Day = Annotated[date, BeforeValidator(_iso_date), Field(description="An ISO date (a French date)")]
