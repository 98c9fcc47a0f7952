"""At which stages of a contract each command may be sent: ``WHEN``, built from each command's declaration
(domain/rules), is what the decider enforces and what the web interface reads to offer only the acts possible now."""

from __future__ import annotations

from domain.rules import WHEN
from domain.state import ContractState
from domain.status import SIGNED_STATUSES


def possible_now(kind: str, state: ContractState) -> bool:
    """Whether the contract's stage admits the command (its other rules — dates, money — are the decider's)."""
    allowed = WHEN.get(kind)
    return allowed is not None and state.status in allowed


__all__ = ["SIGNED_STATUSES", "WHEN", "possible_now"]
