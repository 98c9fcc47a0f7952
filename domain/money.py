"""Money is a whole number of euro cents. Never a float: a float cannot hold 0.10 €."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, Strict

from domain.limits import MAX_CENTS

# Strict: 1500.0 or "1500" is refused rather than quietly read as a whole number of cents; an amount is an integer.
Cents = Annotated[
    int, Strict(), Field(ge=0, le=MAX_CENTS, description="An amount in whole euro cents (never negative)")
]

# Groups of three digits may be separated by a space, a narrow no-break space or a no-break space (French
# typography); the decimal separator is "," (French) or "." (programmatic). Anything else is ambiguous.
_SPACES = "\u0020\u00a0\u202f"
_AMOUNT = re.compile(
    rf"^(?P<int>\d{{1,3}}(?:[{_SPACES}]\d{{3}})+|\d+)(?:[.,](?P<frac>\d{{1,2}}))?$",
)


class MoneyFormatError(ValueError):
    """Raised when a text cannot be read as an amount without guessing."""


def parse_euros(text: str) -> int:
    """Read an amount in euros written by a person and return it in cents.

    Accepts "1 500 000", "1500000.50", "1 500 000,50 €", "1 500 000 EUR". Refuses negatives, more than two decimals,
    and mixed separators such as "1,500,000.00" or "1.500.000" whose meaning depends on the reader's country.
    """
    raw = text.strip()
    if not raw:
        raise MoneyFormatError("an amount is required")
    for suffix in ("€", "EUR", "eur", "euros", "euro"):
        if raw.endswith(suffix):
            raw = raw[: -len(suffix)].rstrip(_SPACES)
            break
    if raw.startswith("-") or raw.startswith("−"):
        raise MoneyFormatError(f"{text!r}: an amount cannot be negative")
    match = _AMOUNT.match(raw)
    if match is None:
        raise MoneyFormatError(
            f"{text!r} is not an amount in euros: write digits, optionally grouped by spaces, "
            "with at most two decimals after ',' or '.' (e.g. 1 500 000,50 €)"
        )
    whole = int(re.sub(f"[{_SPACES}]", "", match.group("int")))
    frac = (match.group("frac") or "").ljust(2, "0")
    return whole * 100 + int(frac)


def format_euros(cents: int) -> str:
    """Format cents the French way: 150000000 -> "1 500 000,00 €" (narrow no-break spaces avoided for terminals)."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    grouped = f"{whole:,}".replace(",", " ")
    return f"{sign}{grouped},{frac:02d} €"
