"""From the préfet's proposal to the signatures: the fiches actions, the deliberation, the signing."""

from __future__ import annotations

from domain.actors import Role
from domain.business_time import business_date
from domain.commands import (
    AddAction,
    ChangeAction,
    ProposeContract,
    RecordDeliberation,
    RemoveAction,
    SignContract,
)
from domain.errors import (
    DateViolation,
    LifecycleViolation,
    Refusals,
    UnknownTerritory,
    ValidationRefused,
)
from domain.events import (
    ActionAdded,
    ActionChanged,
    ActionRemoved,
    ContractProposed,
    ContractSigned,
    DeliberationRecorded,
    Event,
    PartySigned,
    ProgrammeYearOpened,
)
from domain.limits import MAX_ACTIONS
from domain.messages import event_fields
from domain.money_rules import (
    check_action,
    check_axes_covered,
    check_axes_funded,
    check_ceiling,
)
from domain.policy import Policy
from domain.rules.declaration import rule
from domain.rules.parties import check_party
from domain.scope import check_territory_scope
from domain.state import ContractState
from domain.status import NEGOTIABLE_STATUSES, Status
from domain.territories import TerritoryCatalogue, attempt_of, contract_id_for
from domain.values import Action, Party


@rule(ProposeContract, roles={Role.PREFET})
def propose(
    command: ProposeContract, state: ContractState, policy: Policy, catalogue: TerritoryCatalogue
) -> list[Event]:
    if state.status is not Status.NONE:
        raise LifecycleViolation(
            f"contract_id: {command.contract_id} already exists ({state.status.value}); it cannot be proposed twice",
            field="contract_id",
            code="already_exists",
            rule="contract.exists",
        )
    territory = catalogue.get(command.territory_id)
    if territory is None:
        raise UnknownTerritory(
            f"territory: {command.territory_id!r} is not a known territory (a métropole's SIREN, a département code "
            "such as D33, or an intercommunalité registered by an operator)",
            field="territory",
            rule="territory.unknown",
            params={"territory": command.territory_id},
        )
    first, attempt = attempt_of(command.contract_id)
    if first != contract_id_for(territory.id):
        raise ValidationRefused(
            f"contract_id: the contract of {territory.id} is {contract_id_for(territory.id)}, not {command.contract_id}",
            field="contract_id",
            rule="contract.mismatch",
        )
    if command.replaces is not None:
        earlier, earlier_attempt = attempt_of(command.replaces)
        if earlier != first or earlier_attempt >= attempt:
            raise ValidationRefused(
                f"replaces: {command.replaces} is not an earlier contract of {territory.id}",
                field="replaces",
                rule="proposal.replaces_unknown",
            )
    # Within the préfet's scope first; then the ceiling, the date and each fiche, all refused at once.
    check_territory_scope(command.actor, territory)
    refusals = Refusals()
    with refusals.check():
        if command.annual_ceiling <= 0:
            raise ValidationRefused(
                "ceiling: the annual ceiling must be a positive amount", field="ceiling", rule="ceiling.not_positive"
            )
    earliest = policy.earliest_date_for(territory.kind)
    with refusals.check():
        if not earliest <= business_date(command.at) <= policy.programme_end:
            raise DateViolation(
                f"occurred_at: a contract of a {territory.kind.value} is proposed between {earliest} (its "
                f"instruction) and the programme's end ({policy.programme_end})",
                field="occurred_at",
                rule="proposal.date_outside",
                params={"earliest_date": str(earliest), "end_date": str(policy.programme_end)},
            )
    actions = {}
    for index, action in enumerate(command.draft_actions):
        with refusals.check():
            if action.action_id in actions:
                raise ValidationRefused(
                    f"draft_actions[{index}].action_id: {action.action_id} appears twice",
                    field="draft_actions",
                    rule="action.duplicate",
                    params={"action": action.action_id},
                )
            actions[action.action_id] = action
            check_action(action, territory.axes, policy, f"draft_actions[{index}]")
    if command.annual_ceiling > 0:
        with refusals.check():
            check_ceiling(actions, command.annual_ceiling, policy, "draft_actions")
    refusals.raise_found()
    base = event_fields(command)
    return [
        ContractProposed(
            **base,
            territory_id=territory.id,
            territory_name=territory.name,
            kind=territory.kind,
            region=territory.region,
            departements=territory.departements,
            annual_ceiling=command.annual_ceiling,
            replaces=command.replaces,
        ),
        *(ActionAdded(**base, action=action) for action in command.draft_actions),
    ]


@rule(AddAction, roles={Role.PREFET, Role.COLLECTIVITE}, stages=NEGOTIABLE_STATUSES, doing="add an action")
def add_action(command: AddAction, state: ContractState, policy: Policy) -> list[Event]:
    action = command.action
    if action.action_id in state.actions:
        raise ValidationRefused(
            f"action.action_id: {action.action_id} already exists",
            field="action.action_id",
            rule="action.exists",
            params={"action": action.action_id},
        )
    if len(state.actions) >= MAX_ACTIONS:
        raise ValidationRefused(
            f"action: a contract holds at most {MAX_ACTIONS} fiches actions",
            field="action",
            rule="action.too_many",
            params={"limit": MAX_ACTIONS},
        )
    _check_fiche(action, state, policy)
    return [ActionAdded(**event_fields(command), action=action)]


def _check_fiche(action: Action, state: ContractState, policy: Policy) -> None:
    """A fiche added or changed: its own rules and the contract's ceiling with it, refused all at once."""
    refusals = Refusals()
    with refusals.check():
        check_action(action, state.axes, policy)
    with refusals.check():
        check_ceiling({**state.actions, action.action_id: action}, state.annual_ceiling, policy, "action.amounts")
    refusals.raise_found()


@rule(
    ChangeAction,
    roles={Role.PREFET, Role.COLLECTIVITE},
    stages=NEGOTIABLE_STATUSES,
    doing="change an action (after the deliberation, amend the signed contract)",
)
def change_action(command: ChangeAction, state: ContractState, policy: Policy) -> list[Event]:
    action = command.action
    if action.action_id not in state.actions:
        raise ValidationRefused(
            f"action.action_id: there is no action {action.action_id}",
            field="action.action_id",
            rule="action.unknown",
            params={"action": action.action_id},
        )
    if state.actions[action.action_id] == action:
        return []  # a change that changes nothing is no fact (an edit form sent back untouched)
    _check_fiche(action, state, policy)
    return [ActionChanged(**event_fields(command), action=action)]


def unchanged_action_as_recorded_before(command: ChangeAction, state: ContractState) -> list[Event]:
    """What an unchanged ChangeAction recorded before it recorded nothing (an ActionChanged identical to the fiche):
    only the workflow asks, to replay the histories recorded then (behind its patch UNCHANGED_ACTION_PATCH)."""
    if command.request_id in state.request_ids or state.actions.get(command.action.action_id) != command.action:
        return []
    return [ActionChanged(**event_fields(command), action=command.action)]


@rule(RemoveAction, roles={Role.PREFET, Role.COLLECTIVITE}, stages=NEGOTIABLE_STATUSES, doing="remove an action")
def remove_action(command: RemoveAction, state: ContractState, policy: Policy) -> list[Event]:
    if command.action_id not in state.actions:
        raise ValidationRefused(
            f"action_id: there is no action {command.action_id}",
            field="action_id",
            rule="action.unknown",
            params={"action": command.action_id},
        )
    return [ActionRemoved(**event_fields(command), action_id=command.action_id)]


@rule(RecordDeliberation, roles={Role.COLLECTIVITE}, stages=NEGOTIABLE_STATUSES, doing="record the deliberation")
def record_deliberation(command: RecordDeliberation, state: ContractState, policy: Policy) -> list[Event]:
    if not state.actions:
        raise ValidationRefused(
            "actions: the assembly cannot vote on a contract without actions",
            field="actions",
            rule="deliberation.no_actions",
        )
    voted_on = command.deliberation.voted_on
    if voted_on > business_date(command.at):
        raise DateViolation(
            f"deliberation.voted_on: the vote of {voted_on} is after the date it is recorded as of "
            f"({business_date(command.at)}); a vote is recorded once it has happened",
            field="deliberation.voted_on",
            rule="deliberation.vote_in_future",
            params={"date": str(voted_on), "fact_date": str(business_date(command.at))},  # the bound applied
        )
    if state.terms_changed_on is not None and voted_on < state.terms_changed_on:
        raise DateViolation(
            f"deliberation.voted_on: the assembly approves the text as it stood; it was last changed on "
            f"{state.terms_changed_on}, after the vote of {voted_on}",
            field="deliberation.voted_on",
            rule="deliberation.vote_before_change",
            params={"date": str(voted_on), "changed_date": str(state.terms_changed_on)},
        )
    return [DeliberationRecorded(**event_fields(command), deliberation=command.deliberation)]


@rule(
    SignContract,
    roles={Role.PREFET, Role.COLLECTIVITE},
    stages={Status.DELIBERATED},
    doing="sign the contract",
    refused=[(NEGOTIABLE_STATUSES, "the contract cannot be signed before the collectivité's assembly has deliberated")],
)
def sign(command: SignContract, state: ContractState, policy: Policy) -> list[Event]:
    check_party(command.party, command.actor, state)
    if command.party in state.signatures:
        raise LifecycleViolation(
            f"party: {command.party.value} has already signed",
            field="party",
            rule="signature.already_signed",
            params={"party": command.party.value},
        )
    if business_date(command.at) > policy.programme_end:
        raise DateViolation(
            f"occurred_at: the programme ended on {policy.programme_end}",
            field="occurred_at",
            rule="date.after_programme",
            params={"end_date": str(policy.programme_end)},
        )
    assert state.deliberation is not None
    if business_date(command.at) < state.deliberation.voted_on:
        raise DateViolation(
            f"occurred_at: a signature on {business_date(command.at)} cannot precede the deliberation it needs "
            f"(voted on {state.deliberation.voted_on})",
            field="occurred_at",
            rule="signature.before_deliberation",
            params={"date": str(business_date(command.at)), "voted_date": str(state.deliberation.voted_on)},
        )
    first = policy.year_opened_by(business_date(command.at))
    refusals = Refusals()  # an axis without a fiche, and the years an axis has no money: said at once
    with refusals.check():
        check_axes_covered(state.actions, state.kind, state.axes, "when signed")  # type: ignore[arg-type]
    with refusals.check():
        check_axes_funded(state.actions, state.kind, state.axes, range(first, policy.last_year + 1), "when signed")  # type: ignore[arg-type]
    refusals.raise_found()
    base = event_fields(command)
    events: list[Event] = [PartySigned(**base, party=command.party, signatory=command.signatory)]
    if len(state.signatures) + 1 == len(Party):
        events += [
            ContractSigned(**base, in_force_from=policy.programme_start),
            ProgrammeYearOpened(**base, year=first),
        ]
    return events
