"""What an avenant does to a contract: one year's amounts, and its terms (ceiling, fiches actions added, changed or
removed). Used by decide to check an avenant before anyone signs it and again at its conclusion, and by evolve to
apply it once concluded — one definition of its effect. ``avenant_changes`` reads that same effect as people sign
it: per fiche and year, the amounts before and after and their difference, the ceiling, the fiches added, changed or
removed, and the ceiling left each year (the contract page, the signature form and its confirmation show it)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from pydantic import BaseModel, ConfigDict

from domain.money_rules import apply_amounts
from domain.values import Action, Avenant, AvenantTerms, YearAmounts


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


class AmountChange(BaseModel):
    """One fiche's money for one year, before and after the avenant (cents; 0 where the fiche has none)."""

    model_config = ConfigDict(frozen=True)

    action_id: str
    title: str
    year: int
    etat_before: int
    etat_after: int
    collectivite_before: int
    collectivite_after: int

    @property
    def etat_delta(self) -> int:
        return self.etat_after - self.etat_before

    @property
    def collectivite_delta(self) -> int:
        return self.collectivite_after - self.collectivite_before


class AvenantChanges(BaseModel):
    model_config = ConfigDict(frozen=True)

    ceiling_before: int
    ceiling_after: int
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    amounts: tuple[AmountChange, ...]  # only the fiches and years whose money moves, by fiche then year
    ceiling_left: dict[int, int]  # year -> new ceiling minus the État's total that year (negative: over it)
    concluded_on: date | None = None  # the business date it was concluded: then it reads as what it changed

    @property
    def ceiling_changed(self) -> bool:
        return self.ceiling_after != self.ceiling_before


def avenant_changes(actions: Mapping[str, Action], ceiling: int, avenant: Avenant) -> AvenantChanges:
    """What ``avenant`` changes to a contract whose fiches are ``actions`` under ``ceiling``: read from its effect."""
    after, ceiling_after = avenant_effect(actions, ceiling, avenant.year, avenant.amounts, avenant.terms)
    zero = YearAmounts(etat=0, collectivite=0)
    rows = []
    for action_id in sorted(set(actions) | set(after)):
        before_amounts = actions[action_id].amounts if action_id in actions else {}
        after_amounts = after[action_id].amounts if action_id in after else {}
        title = (after.get(action_id) or actions[action_id]).title
        for year in sorted(set(before_amounts) | set(after_amounts)):
            b, a = before_amounts.get(year, zero), after_amounts.get(year, zero)
            if (b.etat, b.collectivite) != (a.etat, a.collectivite):
                rows.append(
                    AmountChange(
                        action_id=action_id,
                        title=title,
                        year=year,
                        etat_before=b.etat,
                        etat_after=a.etat,
                        collectivite_before=b.collectivite,
                        collectivite_after=a.collectivite,
                    )
                )
    years = sorted({y for a in (*actions.values(), *after.values()) for y in a.amounts})
    return AvenantChanges(
        ceiling_before=ceiling,
        ceiling_after=ceiling_after,
        added=tuple(a.action_id for a in avenant.terms.added_actions),
        changed=tuple(a.action_id for a in avenant.terms.changed_actions),
        removed=tuple(avenant.terms.removed_actions),
        amounts=tuple(rows),
        ceiling_left={
            y: ceiling_after - sum(a.amounts[y].etat for a in after.values() if y in a.amounts) for y in years
        },
    )


def renewal_years(current_year: int | None, last_year: int) -> tuple[int, ...]:
    """The years a renewal may be proposed for (``rules.avenants.renew``): the one after the running year, within the
    programme — none before the contract runs or after its last year."""
    if current_year is None or current_year + 1 > last_year:
        return ()
    return (current_year + 1,)
