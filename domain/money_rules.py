"""The money rules of DOMAIN.md §3, as checks that raise a DomainError naming the field and the rule."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from domain.axes import Axis, TerritoryKind
from domain.errors import (
    AxisViolation,
    CeilingExceeded,
    CoFinancingViolation,
    DateViolation,
    Refusals,
    ValidationRefused,
)
from domain.money import format_euros
from domain.policy import Policy
from domain.values import Action, YearAmounts


def check_years(amounts: Mapping[int, YearAmounts], policy: Policy, field: str) -> None:
    refusals = Refusals()
    for year in amounts:
        with refusals.check():
            if year not in policy.years:
                raise DateViolation(
                    f"{field}: year {year} is outside the programme ({policy.first_year}–{policy.last_year})",
                    field=field,
                    rule="year.outside_programme",
                    params={"year": year, "first": policy.first_year, "last": policy.last_year},
                )
    refusals.raise_found()


def check_co_financing(action_id: str, year: int, amounts: YearAmounts, field: str) -> None:
    if amounts.etat != amounts.collectivite:
        raise CoFinancingViolation(
            f"{field}: action {action_id}, year {year}: the État amount ({format_euros(amounts.etat)}) must equal the "
            f"collectivité amount ({format_euros(amounts.collectivite)}) — every action is financed 50/50",
            field=field,
            rule="money.co_financing",
            params={
                "action": action_id,
                "year": year,
                "etat_cents": amounts.etat,
                "collectivite_cents": amounts.collectivite,
            },
        )


def check_action(action: Action, axes: tuple[Axis, ...], policy: Policy, field: str = "action") -> None:
    """A fiche as a whole: its axis, its years, the 50/50 rule each year, its indicators' targets — every one of these
    refused at once (each is independent of the others)."""
    refusals = Refusals()
    with refusals.check():
        if action.axis not in axes:
            raise AxisViolation(
                f"{field}.axis: {action.axis.value} is not an axis of this contract "
                f"({', '.join(a.value for a in axes)}); a département's employment actions go into its France Travail "
                "convention",
                field=f"{field}.axis",
                rule="axis.not_of_contract",
                params={"axis": action.axis.value},
            )
    with refusals.check():
        check_years(action.amounts, policy, f"{field}.amounts")
    for year, amounts in sorted(action.amounts.items()):
        with refusals.check():
            check_co_financing(action.action_id, year, amounts, f"{field}.amounts")
    funded_years = sorted(y for y, a in action.amounts.items() if a.etat > 0)
    for position, indicator in enumerate(action.indicators):
        with refusals.check():
            years = {y: YearAmounts(etat=0, collectivite=0) for y in indicator.targets}
            check_years(years, policy, f"{field}.indicators.{position}")
        missing = [y for y in funded_years if y not in indicator.targets]
        with refusals.check():
            if missing:
                raise ValidationRefused(
                    f"{field}.indicators: {indicator.code} needs a yearly target for every year the action is funded; "
                    f"none for {', '.join(map(str, missing))}",
                    field=f"{field}.indicators.{position}",
                    rule="indicator.target_missing",
                    params={"indicator": indicator.code, "years": ", ".join(map(str, missing))},
                )
    refusals.raise_found()


def check_ceiling(actions: Mapping[str, Action], ceiling: int, policy: Policy, field: str) -> None:
    refusals = Refusals()  # every year above the ceiling, at once
    for year in policy.years:
        total = sum(a.amounts[year].etat for a in actions.values() if year in a.amounts)
        with refusals.check():
            if total > ceiling:
                raise CeilingExceeded(
                    f"{field}: in {year} the État amounts add up to {format_euros(total)}, above the annual ceiling "
                    f"of {format_euros(ceiling)}",
                    field=field,
                    rule="money.ceiling",
                    params={"year": year, "total_cents": total, "ceiling_cents": ceiling},
                )
    refusals.raise_found()


def check_axes_covered(actions: Mapping[str, Action], kind: TerritoryKind, axes: tuple[Axis, ...], when: str) -> None:
    """A métropole's contract holds at least one action on each of its four axes."""
    if kind is not TerritoryKind.METROPOLE:
        return
    present = {a.axis for a in actions.values()}
    missing = [axis.value for axis in axes if axis not in present]
    if missing:
        raise AxisViolation(
            f"actions: a métropole's contract needs at least one action on each of the 4 axes {when}; "
            f"missing: {', '.join(missing)}",
            field="actions",
            rule="axis.missing_action",
            params={"axes": ", ".join(missing)},
        )


def check_axes_funded(
    actions: Mapping[str, Action], kind: TerritoryKind, axes: tuple[Axis, ...], years: Iterable[int], when: str
) -> None:
    """A métropole's contract has État money on each of its four axes in every programme year it runs: an axis whose
    only action is at 0 € does not count. One rule, checked at signature, amendment and renewal alike."""
    if kind is not TerritoryKind.METROPOLE:
        return
    refusals = Refusals()  # every year an axis goes without, at once
    for year in years:
        funded = {a.axis for a in actions.values() if year in a.amounts and a.amounts[year].etat > 0}
        missing = [axis.value for axis in axes if axis not in funded]
        with refusals.check():
            if missing:
                raise AxisViolation(
                    f"amounts: a métropole funds each of its 4 axes every year {when}; in {year} no État money goes "
                    f"to {', '.join(missing)}",
                    field="amounts",
                    rule="axis.unfunded",
                    params={"year": year, "axes": ", ".join(missing)},
                )
    refusals.raise_found()


def apply_amounts(actions: Mapping[str, Action], year: int, amounts: Mapping[str, YearAmounts]) -> dict[str, Action]:
    """The actions as they would be with ``amounts`` for ``year`` (actions not named keep theirs)."""
    out = dict(actions)
    for action_id, value in amounts.items():
        action = out[action_id]
        out[action_id] = action.model_copy(update={"amounts": {**action.amounts, year: value}})
    return out


def check_amounts_for_year(
    actions: Mapping[str, Action],
    year: int,
    amounts: Mapping[str, YearAmounts],
    policy: Policy,
    field: str,
    *,
    allow_empty: bool = False,
) -> None:
    if year not in policy.years:
        raise DateViolation(
            f"year: {year} is outside the programme ({policy.first_year}–{policy.last_year})",
            field="year",
            rule="year.outside_programme",
            params={"year": year, "first": policy.first_year, "last": policy.last_year},
        )
    if not amounts and not allow_empty:
        raise ValidationRefused(f"{field}: give the amounts of at least one action", field=field, rule="amounts.empty")
    refusals = Refusals()  # each fiche's amounts judged on their own: every fiche refused at once
    for action_id, value in amounts.items():
        with refusals.check():
            if action_id not in actions:
                raise ValidationRefused(
                    f"{field}: {action_id} is not an action of this contract",
                    field=f"{field}.{action_id}",
                    rule="action.unknown",
                    params={"action": action_id},
                )
            check_co_financing(action_id, year, value, f"{field}.{action_id}")  # at its fiche
        if action_id in actions and value.etat > 0 and policy.order_rules >= 2:
            with refusals.check():  # (the first rules let an avenant skip it: issue 24)
                check_targets(actions[action_id], year, f"{field}.{action_id}")  # at its fiche
    refusals.raise_found()


def check_targets(action: Action, year: int, field: str) -> None:
    """The indicator rule, wherever money is set (a draft, a change of a fiche, a renewal, an amendment): an action
    funded in a year has a target for it on every indicator."""
    for indicator in action.indicators:
        if year not in indicator.targets:
            raise ValidationRefused(
                f"{field}: {action.action_id} would be funded in {year}, but its indicator {indicator.code} has no "
                f"target for {year}; every year an action is funded needs a yearly target (change the fiche by this "
                "avenant's terms)",
                field=field,
                rule="indicator.no_target_in_year",
                params={"action": action.action_id, "indicator": indicator.code, "year": year},
            )
