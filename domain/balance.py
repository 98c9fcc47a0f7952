"""Recovery of État credits (DOMAIN.md §3.4): réfaction on the next year, reversement at closing — to the cent."""

from __future__ import annotations

from collections.abc import Mapping

from domain.policy import Policy
from domain.state import ContractState
from domain.values import Action, Balance


def recoverable_for_year(
    actions: Mapping[str, Action], year: int, etat_spent: Mapping[str, int], collectivite_spent: Mapping[str, int]
) -> int:
    """État credits of ``year`` not spent, or not matched by the collectivité's own spending, action by action."""
    total = 0
    for action_id, action in actions.items():
        programmed = action.amounts[year].etat if year in action.amounts else 0
        used = min(programmed, etat_spent.get(action_id, 0), collectivite_spent.get(action_id, 0))
        total += programmed - used
    return total


def closing_balance(state: ContractState, policy: Policy, *, settlement: bool = False) -> Balance:
    """programmed = used + recoverable; paid = programmed − réfaction; reversement = paid − used.

    ``settlement``: the balance of a résiliation. A year run without an execution report has nothing proven spent:
    its État credits are all recoverable (owed back); the collectivité reports before the résiliation to count them."""
    # Only the years the contract was executed count (a contract signed late never ran its earlier years).
    years = [year for year in policy.years if state.year(year).opened]
    programmed = sum(state.etat_total(year) for year in years)
    recoverable = sum(
        state.etat_total(year) if settlement and state.year(year).report is None else state.year(year).recoverable_etat
        for year in years
    )
    # A deduction cannot exceed the État amount of the year it is taken from; what it cannot absorb is reimbursed.
    refaction = sum(min(state.year(year).refaction, state.etat_total(year)) for year in years)
    used = programmed - recoverable
    paid = programmed - refaction
    return Balance(
        programmed_etat=programmed,
        used_etat=used,
        recoverable_etat=recoverable,
        refaction_applied=refaction,
        paid_etat=paid,
        reversement=paid - used,
    )
