"""When a territory's new attempt at a contract may start (issue 24, defects 10 and 11).

A territory holds one live contract at a time, in record time and in business time. A new attempt (``cls-<siren>-2``…,
proposed or imported) may start only once the territory's earlier contract has ended — résilié (``TERMINATED``),
signed, half-signed or not, or ``CLOSED`` — and only on or after the day it ended (the business date of its
résiliation or of its closing): never while the earlier one runs, never dated before its end, hence never before it
was proposed. Pure: the service layer reads the earlier contract's state and holds the territory's guard while it
checks this and creates the new contract (pacte/service/operations.py)."""

from __future__ import annotations

from datetime import date

from domain.errors import DateViolation, LifecycleViolation
from domain.state import ContractState
from domain.status import FINAL_STATUSES


def check_new_attempt(earlier: ContractState | None, proposed_on: date) -> None:
    """Refuse a new contract for the territory whose latest contract is ``earlier`` (None: it has none), proposed on
    ``proposed_on`` (business date). Raises a DomainError naming the field (``territory`` or ``occurred_at``)."""
    if earlier is None:
        return
    if earlier.status not in FINAL_STATUSES:
        raise LifecycleViolation(
            f"territory: {earlier.territory_id} has a contract under way, {earlier.contract_id} "
            f"({earlier.status.value}); a new contract starts only once it is résilié or closed",
            field="territory",
            code="already_exists",  # the territory's contract exists already (the API answers 409, as it always did)
            rule="attempt.earlier_live",
            params={"contract": earlier.contract_id, "status": earlier.status.value},
        )
    ended_on = earlier.ended_on
    if ended_on is not None and proposed_on < ended_on:
        raise DateViolation(
            f"occurred_at: {proposed_on} is before {earlier.contract_id} ended ({ended_on}); a territory's new "
            "contract starts on or after the day its earlier one ended",
            field="occurred_at",
            rule="attempt.before_earlier_end",
            params={"contract": earlier.contract_id, "date": str(proposed_on), "end_date": str(ended_on)},
        )
