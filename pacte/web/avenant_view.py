"""Avenants as people sign them: what each one changes (``domain.avenants.avenant_changes``, the same reading on the
contract page, the signature form and its confirmation), and the renewal form opened with the current year's
amounts, so a préfet proposes next year's by changing only what changes."""

from __future__ import annotations

from datetime import date

from domain.avenants import AvenantChanges, avenant_changes
from domain.deadlines import avenant_signature_due
from domain.state import ContractState
from domain.values import Avenant
from pacte.service.facade import policy_now
from pacte.web.formats import euros


def pending(state: ContractState, avenant_id: str = "") -> list[tuple[Avenant, AvenantChanges]]:
    """The avenants not yet concluded (or the one named), each with what it would change to the contract as it is."""
    return [
        (avenant, avenant_changes(state.actions, state.annual_ceiling, avenant))
        for key, avenant in sorted(state.avenants.items())
        if not avenant.concluded and (not avenant_id or key == avenant_id)
    ]


def shown_with(kind: str, state: ContractState, avenant_id: str) -> list[tuple[Avenant, AvenantChanges]]:
    """What a form shows above its fields: an avenant's signature shows what is signed, its withdrawal what is
    withdrawn."""
    return pending(state, avenant_id) if kind in ("SignAvenant", "WithdrawAvenant") else []


def signature_dues(kind: str, state: ContractState, avenant_id: str) -> dict[str, date]:
    """The last day each avenant a signature form shows may be signed (the decider's own date), said on the form and
    on its confirmation page: who signs sees by when."""
    if kind != "SignAvenant":
        return {}
    policy = policy_now()
    return {avenant.avenant_id: avenant_signature_due(avenant, policy) for avenant, _ in pending(state, avenant_id)}


def renewal_prefill(state: ContractState) -> dict[str, str]:
    """The renewal form's first values: next year, each fiche with this year's amounts."""
    year = state.current_year
    if year is None:
        return {}
    values = {"year": str(year + 1)}
    for action_id, action in state.actions.items():
        amounts = action.amounts.get(year)
        if amounts is not None:
            for who in ("etat", "collectivite", "partenaires"):
                values[f"amounts.{action_id}.{who}"] = euros(getattr(amounts, who))
    return values
