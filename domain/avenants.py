"""What an avenant does to a contract: one year's amounts, and its terms (ceiling, fiches actions added, changed or
removed). Used by decide to check an avenant before anyone signs it and again at its conclusion, and by evolve to
apply it once concluded — one definition of its effect."""

from __future__ import annotations

from collections.abc import Mapping

from domain.money_rules import apply_amounts
from domain.values import Action, AvenantTerms, YearAmounts


def avenant_effect(
    actions: Mapping[str, Action],
    ceiling: int,
    year: int,
    amounts: Mapping[str, YearAmounts],
    terms: AvenantTerms,
) -> tuple[dict[str, Action], int]:
    """The actions and the annual ceiling as they are once the avenant is concluded."""
    after = {k: v for k, v in actions.items() if k not in terms.removed_actions}
    for action in (*terms.changed_actions, *terms.added_actions):
        after[action.action_id] = action
    return apply_amounts(after, year, amounts), terms.annual_ceiling or ceiling
