"""Avenants: the yearly renewal, an amendment, and their signatures (concluded once both parties signed)."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.actors import Role
from domain.avenants import avenant_effect, renewal_years
from domain.business_time import business_date
from domain.commands import (
    Amend,
    Renew,
    SignAvenant,
    WithdrawAvenant,
)
from domain.errors import (
    LifecycleViolation,
    Refusals,
    ValidationRefused,
)
from domain.events import (
    AvenantConcluded,
    AvenantProposed,
    AvenantSigned,
    AvenantWithdrawn,
    Event,
)
from domain.limits import MAX_ACTIONS, MAX_AVENANTS
from domain.messages import event_fields
from domain.money_rules import (
    apply_amounts,
    check_action,
    check_amounts_for_year,
    check_axes_covered,
    check_axes_funded,
    check_ceiling,
)
from domain.policy import Policy
from domain.rules.declaration import rule
from domain.rules.parties import check_party, party_of
from domain.state import ContractState
from domain.status import Status
from domain.values import Action, Avenant, AvenantKind, AvenantTerms, Decision, Party

RENEWAL_PREFIX = "renewal-"  # a renewal's avenant id: renewal-<year>, reserved


def _as_funded(action: Action, years: list[int]) -> dict[str, Any]:
    """What an action was in ``years``: the fiche itself and its indicators' baselines and targets of those years (the
    years to come may change). Issue 24: a reported year's actions are frozen whole, not only their amounts."""
    fiche = action.model_dump(include={"axis", "objective", "title", "nature", "reinforcement", "public", "zone"})
    measured = {i.code: (i.label, i.baseline, {y: i.targets.get(y) for y in years}) for i in action.indicators}
    return fiche | {"indicators": measured}


def _first_frozen_change(old: Action, new: Action, years: list[int]) -> str:
    """Where a frozen fiche was changed, as the form names it: the first of its own values that differs ("title"), or
    the indicator that does ("indicators.1"), or the indicators as a whole (one removed)."""
    before, after = _as_funded(old, years), _as_funded(new, years)
    for name in ("axis", "objective", "title", "nature", "reinforcement", "public", "zone"):
        if before[name] != after[name]:
            return name
    for position, indicator in enumerate(new.indicators):
        if before["indicators"].get(indicator.code) != after["indicators"][indicator.code]:
            return f"indicators.{position}"
    return "indicators"


def _check_avenant(
    state: ContractState,
    year: int,
    amounts: dict[str, Any],
    policy: Policy,
    *,
    renewal: bool,
    terms: AvenantTerms | None = None,
) -> None:
    """An avenant as a whole: its amounts for ``year`` and its terms, on the contract as it would then be. The money
    of a year that has ended (or is reported) never moves: no action funded in it is removed, none of its amounts
    change. The ceiling, the 50/50 rule and the axes funded every year hold after it."""
    terms = terms or AvenantTerms()
    if not amounts and terms.empty:
        raise ValidationRefused(
            "amounts: an avenant changes something: amounts, the ceiling or the actions",
            field="amounts",
            rule="avenant.changes_nothing",
        )
    assert state.current_year is not None
    ended = [y for y in policy.years if y < state.current_year or state.year(y).report is not None]
    refusals = Refusals()  # each fiche removed, changed or added is judged on its own: all refused at once
    for position, action_id in enumerate(terms.removed_actions):
        with refusals.check():
            _check_removed(state, ended, position, action_id)
    for index, action in enumerate(terms.changed_actions):
        with refusals.check():
            _check_changed(state, ended, policy, index, action)
    for index, action in enumerate(terms.added_actions):
        with refusals.check():
            _check_added(state, ended, policy, index, action)
    with refusals.check():
        if terms.follows_review_of is not None:
            reviews = state.year(terms.follows_review_of).reviews
            if not any(r.decision is Decision.ADJUST for r in reviews):
                raise ValidationRefused(
                    f"terms.follows_review_of: no committee review of {terms.follows_review_of} decided ADJUST",
                    field="terms.follows_review_of",
                    rule="avenant.no_adjust_review",
                    params={"year": terms.follows_review_of},
                )
    refusals.raise_found()  # the contract as it would be is built from known fiches only
    structure, ceiling = avenant_effect(state.actions, state.annual_ceiling, year, {}, terms)
    if len(structure) > MAX_ACTIONS:
        raise ValidationRefused(
            f"terms.added_actions: a contract holds at most {MAX_ACTIONS} fiches actions",
            field="terms.added_actions",
            rule="action.too_many",
            params={"limit": MAX_ACTIONS},
        )
    with refusals.check():
        check_amounts_for_year(structure, year, amounts, policy, "amounts", allow_empty=not terms.empty)
    if year in policy.years and all(action_id in structure for action_id in amounts):
        # The contract after it, judged whole even when a fiche's amounts are refused: the ceiling and the axes too.
        after = apply_amounts(structure, year, amounts)
        with refusals.check():
            check_ceiling(after, ceiling, policy, "amounts" if terms.annual_ceiling is None else "terms.annual_ceiling")
        with refusals.check():
            check_axes_covered(after, state.kind, state.axes, "after this avenant")  # type: ignore[arg-type]
        when = f"when renewed for {year}" if renewal else f"after this amendment of {year}"
        running = range(max(year if renewal else state.current_year, policy.first_year), policy.last_year + 1)
        with refusals.check():
            check_axes_funded(after, state.kind, state.axes, running if not renewal else (year,), when)  # type: ignore[arg-type]
    refusals.raise_found()


def _check_removed(state: ContractState, ended: list[int], position: int, action_id: str) -> None:
    action = state.actions.get(action_id)
    if action is None:
        raise ValidationRefused(
            f"terms.removed_actions: there is no action {action_id}",
            field=f"terms.removed_actions.{position}",
            rule="action.unknown",
            params={"action": action_id},
        )
    spent_years = [y for y in ended if y in action.amounts and action.amounts[y].etat > 0]
    if spent_years:
        raise LifecycleViolation(
            f"terms.removed_actions: {action_id} was funded in {', '.join(map(str, spent_years))}, which is over; "
            "give it no money for the years to come instead",
            field=f"terms.removed_actions.{position}",
            rule="action.removal_after_spending",
            params={"action": action_id, "years": ", ".join(map(str, spent_years))},
        )


def _check_changed(state: ContractState, ended: list[int], policy: Policy, index: int, action: Action) -> None:
    old = state.actions.get(action.action_id)
    if old is None:
        raise ValidationRefused(
            f"terms.changed_actions[{index}]: there is no action {action.action_id}",
            field=f"terms.changed_actions.{index}.action_id",
            rule="action.unknown",
            params={"action": action.action_id},
        )
    check_action(action, state.axes, policy, f"terms.changed_actions.{index}")
    if any(old.amounts.get(y) != action.amounts.get(y) for y in ended):
        raise LifecycleViolation(
            f"terms.changed_actions[{index}]: the amounts of a year that is over are frozen",
            field=f"terms.changed_actions.{index}.amounts",
            rule="action.past_amounts_frozen",
            params={"action": action.action_id},
        )
    # Reported: the report accounts for what the fiche was that year (a year over but not reported yet may still
    # see its fiche's wording corrected; its amounts are frozen above).
    funded = [y for y in ended if state.year(y).report is not None and y in old.amounts and old.amounts[y].etat > 0]
    if funded and policy.order_rules >= 2 and _as_funded(old, funded) != _as_funded(action, funded):
        raise LifecycleViolation(
            f"terms.changed_actions[{index}]: {action.action_id} was funded in "
            f"{', '.join(map(str, funded))}, which is reported: what was funded then is frozen whole "
            "(axis, objective, title, nature, public, zone, indicators and their targets of those years); "
            "change only the years to come, or add a new action",
            field=f"terms.changed_actions.{index}.{_first_frozen_change(old, action, funded)}",
            rule="action.reported_frozen",
            params={"action": action.action_id, "years": ", ".join(map(str, funded))},
        )


def _check_added(state: ContractState, ended: list[int], policy: Policy, index: int, action: Action) -> None:
    assert state.current_year is not None
    if action.action_id in state.actions:
        raise ValidationRefused(
            f"terms.added_actions[{index}]: {action.action_id} already exists",
            field=f"terms.added_actions.{index}.action_id",
            rule="action.exists",
            params={"action": action.action_id},
        )
    check_action(action, state.axes, policy, f"terms.added_actions.{index}")
    if any(y in ended and a.etat > 0 for y, a in action.amounts.items()):
        raise LifecycleViolation(
            f"terms.added_actions[{index}]: a new action is funded from {state.current_year} on",
            field=f"terms.added_actions.{index}.amounts",
            rule="action.added_from_current_year",
            params={"year": state.current_year},
        )


def _check_room_for_avenant(state: ContractState) -> None:
    if len(state.avenants) >= MAX_AVENANTS:
        raise ValidationRefused(
            f"amendment_id: a contract holds at most {MAX_AVENANTS} avenants",
            field="amendment_id",
            rule="avenant.too_many",
            params={"limit": MAX_AVENANTS},
        )


@rule(
    Renew,
    roles={Role.PREFET},
    stages={Status.IN_EXECUTION},
    doing="renew the contract",
    refused=[({Status.SUSPENDED}, "a suspended contract is resumed before it is renewed")],
)
def renew(command: Renew, state: ContractState, policy: Policy) -> list[Event]:
    assert state.current_year is not None
    if command.year not in renewal_years(state.current_year, policy.last_year):
        raise ValidationRefused(
            f"year: the renewal is for the year after the current one ({state.current_year + 1}), within "
            f"{policy.first_year}–{policy.last_year}; not {command.year}",
            field="year",
            rule="renewal.wrong_year",
            params={"year": command.year, "expected": state.current_year + 1},
        )
    if not state.year(state.current_year).reviews:
        raise LifecycleViolation(
            f"year: no renewal for {command.year} before the committee has reviewed {state.current_year}",
            field="year",
            rule="renewal.before_review",
            params={"year": command.year, "reviewed": state.current_year},
        )
    avenant_id = f"{RENEWAL_PREFIX}{command.year}"
    _check_room_for_avenant(state)
    pending = state.avenants.get(avenant_id)
    # From order_rules 2, a renewal not concluded yet is replaced by the préfet's new proposal (its signatures start
    # again): a proposal overtaken by an amendment, or mistyped, never blocks the year's renewal for good.
    if pending is not None and (pending.concluded or policy.order_rules < 2):
        raise LifecycleViolation(
            f"year: a renewal for {command.year} is already proposed",
            field="year",
            rule="renewal.already_proposed",
            params={"year": command.year},
        )
    if pending is not None and pending.amounts == command.amounts:  # the same proposal again replaces nothing
        raise LifecycleViolation(
            f"year: a renewal for {command.year} is already proposed with these amounts",
            field="year",
            rule="renewal.same_again",
            params={"year": command.year},
        )
    _check_avenant(state, command.year, command.amounts, policy, renewal=True)
    # The proposal it replaces ends by a fact of its own, as an amendment's does (its signatures no longer count).
    replaced = [
        AvenantWithdrawn(
            **event_fields(command),
            avenant_id=avenant_id,
            reason=f"remplacé par un nouveau renouvellement pour {command.year}",
        )
    ]
    return [
        *(replaced if pending is not None else []),
        AvenantProposed(
            **event_fields(command),
            avenant_id=avenant_id,
            kind=AvenantKind.RENEWAL,
            year=command.year,
            amounts=command.amounts,
            reason=f"renouvellement pour {command.year}",
        ),
    ]


@rule(Amend, roles={Role.PREFET, Role.COLLECTIVITE}, stages={Status.IN_EXECUTION}, doing="amend the contract")
def amend(command: Amend, state: ContractState, policy: Policy) -> list[Event]:
    assert state.current_year is not None
    if not state.current_year <= command.year <= policy.last_year:
        raise ValidationRefused(
            f"year: an amendment concerns the current year or a later one ({state.current_year}–{policy.last_year})",
            field="year",
            rule="amendment.wrong_year",
            params={"first": state.current_year, "last": policy.last_year},
        )
    if command.amendment_id in state.avenants or command.amendment_id in state.withdrawn_avenants:
        raise ValidationRefused(
            f"amendment_id: {command.amendment_id} is already used",
            field="amendment_id",
            rule="avenant.id_used",
            params={"avenant": command.amendment_id},
        )
    if policy.order_rules >= 2 and command.amendment_id.lower().startswith(RENEWAL_PREFIX):
        raise ValidationRefused(
            f"amendment_id: ids beginning with {RENEWAL_PREFIX!r} are reserved for the préfet's renewals; name the "
            "amendment otherwise",
            field="amendment_id",
            rule="avenant.renewal_id_reserved",
            params={"prefix": RENEWAL_PREFIX},
        )
    replaced = _replaced(command, state) if command.replaces is not None else None
    if replaced is None:
        _check_room_for_avenant(state)
    else:  # the replaced proposal no longer counts: the new one is checked on the contract without it
        state = state.model_copy(update={"avenants": {k: v for k, v in state.avenants.items() if k != replaced}})
    if state.year(command.year).report is not None:
        raise LifecycleViolation(
            f"year: the execution report of {command.year} is in; its money is frozen",
            field="year",
            rule="year.frozen",
            params={"year": command.year},
        )
    _check_avenant(state, command.year, command.amounts, policy, renewal=False, terms=command.terms)
    if policy.order_rules >= 2:
        # An amendment that would change nothing is no agreement to sign (a user walk recorded one, then it waited
        # for two signatures that could change nothing). The first rules recorded it: histories keep it.
        actions, ceiling = avenant_effect(
            state.actions, state.annual_ceiling, command.year, command.amounts, command.terms
        )
        if actions == state.actions and ceiling == state.annual_ceiling:
            raise ValidationRefused(
                f"amounts: amendment {command.amendment_id} changes no amount, no fiche and not the ceiling",
                field="amounts",
                rule="avenant.no_effect",
                params={"avenant": command.amendment_id},
            )
    base = event_fields(command)
    events: list[Event] = []
    if replaced is not None:
        events.append(AvenantWithdrawn(**base, avenant_id=replaced, reason=f"remplacé par {command.amendment_id}"))
    events += [
        AvenantProposed(
            **base,
            avenant_id=command.amendment_id,
            kind=AvenantKind.AMENDMENT,
            year=command.year,
            amounts=command.amounts,
            reason=command.reason,
            terms=command.terms,
        )
    ]
    if not policy.amendment_requires_both_parties:
        events.append(AvenantConcluded(**base, avenant_id=command.amendment_id))
    return events


def _pending_of_proposer(
    avenant_id: str, command: Amend | WithdrawAvenant, state: ContractState, field: str
) -> Avenant:
    """The avenant ``avenant_id``, not concluded, proposed by the party the command's actor acts for (the État through
    the préfet of the territory's département, the collectivité itself): only its proposer withdraws or replaces it."""
    avenant = state.avenants.get(avenant_id)
    if avenant is None:
        raise ValidationRefused(
            f"{field}: there is no avenant {avenant_id}",
            field=field,
            rule="avenant.unknown",
            params={"avenant": avenant_id},
        )
    if avenant.concluded:
        raise LifecycleViolation(
            f"{field}: {avenant_id} is already concluded",
            field=field,
            rule="avenant.concluded",
            params={"avenant": avenant_id},
        )
    proposer = avenant.proposed_by or (Party.ETAT if avenant.kind is AvenantKind.RENEWAL else None)
    if proposer is not party_of(command.actor):
        raise LifecycleViolation(
            f"{field}: {avenant_id} was proposed by the {proposer.value if proposer else 'other party'}; only its "
            "proposer withdraws or replaces it",
            field=field,
            rule="avenant.not_proposer",
            params={"avenant": avenant_id, "party": proposer.value if proposer else ""},
        )
    check_party(proposer, command.actor, state)  # the État's through the préfet of the territory, not a national scope
    return avenant


def _replaced(command: Amend, state: ContractState) -> str:
    """The pending amendment ``command`` replaces (its own proposer's); a renewal is replaced by the préfet's new
    renewal for its year, not by an amendment."""
    assert command.replaces is not None
    avenant = _pending_of_proposer(command.replaces, command, state, "replaces")
    if avenant.kind is AvenantKind.RENEWAL:
        raise ValidationRefused(
            f"replaces: {command.replaces} is a renewal; it is replaced by a new renewal for {avenant.year}, or "
            "withdrawn",
            field="replaces",
            rule="avenant.renewal_replaced_by_renewal",
            params={"avenant": command.replaces, "year": avenant.year},
        )
    return command.replaces


@rule(
    WithdrawAvenant,
    roles={Role.PREFET, Role.COLLECTIVITE},
    stages={Status.IN_EXECUTION, Status.SUSPENDED},
    doing="withdraw an avenant proposal",
)
def withdraw_avenant(command: WithdrawAvenant, state: ContractState, policy: Policy) -> list[Event]:
    """A pending proposal withdrawn by its proposer, replaced by nothing (issue 24, defect 7): a renewal withdrawn
    leaves the year's renewal owed (proposed again, or missed at its deadline); an amendment's id stays used."""
    _pending_of_proposer(command.avenant_id, command, state, "avenant_id")
    return [AvenantWithdrawn(**event_fields(command), avenant_id=command.avenant_id, reason=command.reason)]


@rule(SignAvenant, roles={Role.PREFET, Role.COLLECTIVITE}, stages={Status.IN_EXECUTION}, doing="sign an avenant")
def sign_avenant(command: SignAvenant, state: ContractState, policy: Policy) -> list[Event]:
    avenant: Avenant | None = state.avenants.get(command.avenant_id)
    if avenant is None:
        raise ValidationRefused(
            f"avenant_id: there is no avenant {command.avenant_id}",
            field="avenant_id",
            rule="avenant.unknown",
            params={"avenant": command.avenant_id},
        )
    check_party(command.party, command.actor, state)
    if avenant.concluded:
        raise LifecycleViolation(
            f"avenant_id: {command.avenant_id} is already concluded",
            field="avenant_id",
            rule="avenant.concluded",
            params={"avenant": command.avenant_id},
        )
    if command.party in avenant.signatures:
        raise LifecycleViolation(
            f"party: {command.party.value} has already signed {command.avenant_id}",
            field="party",
            rule="avenant.already_signed",
            params={"party": command.party.value, "avenant": command.avenant_id},
        )
    if avenant.kind is AvenantKind.RENEWAL and state.current_year is not None and avenant.year <= state.current_year:
        raise LifecycleViolation(
            f"avenant_id: the renewal for {avenant.year} was not signed before that year opened",
            field="avenant_id",
            rule="renewal.too_late",
            params={"year": avenant.year},
        )
    if state.year(avenant.year).report is not None or business_date(command.at) > date(avenant.year, 12, 31):
        raise LifecycleViolation(
            f"avenant_id: {command.avenant_id} changes the amounts of {avenant.year}, which is over or reported; a "
            "year's money is frozen once it has ended",
            field="avenant_id",
            rule="avenant.year_over",
            params={"avenant": command.avenant_id, "year": avenant.year},
        )
    base = event_fields(command)
    events: list[Event] = [
        AvenantSigned(**base, avenant_id=command.avenant_id, party=command.party, signatory=command.signatory)
    ]
    if len(avenant.signatures) + 1 == len(Party):
        # Re-checked at conclusion: other changes may have been made since the avenant was proposed.
        _check_avenant(
            state,
            avenant.year,
            avenant.amounts,
            policy,
            renewal=avenant.kind is AvenantKind.RENEWAL,
            terms=avenant.terms,
        )
        events.append(AvenantConcluded(**base, avenant_id=command.avenant_id))
    return events
