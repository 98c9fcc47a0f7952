"""Editing round-trips: a form that edits opens with everything the contract holds (every indicator, every year's
amounts), submitting it unchanged records nothing, and an edit reads back exactly as typed. The property is checked
for every form that edits a fiche action, over fiches hypothesis makes up."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from domain.axes import Axis
from domain.commands import ChangeAction
from domain.decider import decide
from domain.errors import DomainError
from domain.events import ActionChanged
from domain.evolve import evolve
from domain.policy import DEFAULT_POLICY
from domain.state import ContractState
from domain.values import Action, Indicator, Nature, Reinforcement, YearAmounts
from pacte.web.forms import FORMS, Input, body_of, fields_for, inputs_of
from tests.unit.builders import EUR, PREFET_33, YEARS, action, at, bordeaux_in_execution, command

PREFET = bordeaux_in_execution("proposed").state
BORDEAUX = "cls-243300316"
# What an agent can type in an <input>: printable text (a browser drops line breaks from a one-line input), and not
# blank (a blank input is an empty one).
LINE = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40).filter(
    lambda s: s.strip() != ""
)
COUNT = st.integers(min_value=0, max_value=10**9)


@st.composite
def fiches(draw: st.DrawFn, action_id: str = "A1") -> Action:
    years = draw(st.lists(st.sampled_from(YEARS), min_size=1, max_size=4, unique=True))
    codes = draw(st.lists(st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True), min_size=1, max_size=4, unique=True))
    nature = draw(st.sampled_from(Nature))
    amounts = {}
    for year in years:
        cents = draw(st.integers(min_value=0, max_value=200_000 * EUR))
        amounts[year] = YearAmounts(etat=cents, collectivite=cents, partenaires=draw(st.integers(0, 10**9)))
    return Action(
        action_id=action_id,
        axis=draw(st.sampled_from(list(Axis))),
        objective=draw(LINE),
        title=draw(LINE),
        nature=nature,
        reinforcement=draw(st.sampled_from(Reinforcement)) if nature is Nature.REINFORCED else None,
        public=draw(LINE),
        zone=draw(LINE),
        indicators=tuple(
            Indicator(code=code, label=draw(LINE), baseline=draw(COUNT), targets={y: draw(COUNT) for y in years})
            for code in codes
        ),
        amounts=amounts,
    )


def opened(kind: str, state: ContractState, action_id: str) -> dict[str, str]:
    """What a form shows when opened: every input's value, as the browser would send it back untouched."""
    return {i.name: i.value for i in inputs_of(fields_for(FORMS[kind], state, action_id)) if i.value}


def holding(fiche: Action) -> ContractState:
    return PREFET.model_copy(update={"actions": {**PREFET.actions, fiche.action_id: fiche}})


def change(state: ContractState, body: dict[str, Any]) -> list[Any]:
    sent = command("ChangeAction", BORDEAUX, PREFET_33, at(2024, 1, 15), action=body["action"])
    assert isinstance(sent, ChangeAction)
    return decide(sent, state, DEFAULT_POLICY)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fiche=fiches())
def test_a_fiche_opened_and_sent_unchanged_reads_back_whole_and_records_nothing(fiche: Action) -> None:
    state = holding(fiche)
    body = body_of(fields_for(FORMS["ChangeAction"], state, "A1"), opened("ChangeAction", state, "A1"))
    assert Action.model_validate(body["action"]) == fiche  # every indicator, every year, every amount
    assert change(state, body) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fiche=fiches())
def test_an_avenant_changing_a_fiche_opened_and_sent_unchanged_sends_nothing(fiche: Action) -> None:
    state = holding(fiche)
    form = FORMS["AmendChangeAction"]
    typed = opened("AmendChangeAction", state, "A1") | {"amendment_id": "AV-1", "reason": "Ajustement"}
    body = body_of(fields_for(form, state, "A1"), typed)
    assert Action.model_validate(body["terms"]["changed_actions"][0]) == fiche
    assert form.unchanged is not None and form.unchanged(state, body)
    # Changed, it is an avenant to propose.
    renamed = typed | {"terms.changed_actions.0.title": fiche.title + " bis"}
    assert not form.unchanged(state, body_of(fields_for(form, state, "A1"), renamed))


def test_every_form_that_edits_is_held_to_the_round_trip() -> None:
    """The forms prefilled from a fiche: each has its property above (a new edit form must get one)."""
    editing = {kind for kind, form in FORMS.items() if form.key == "action_id" and kind != "RemoveAction"}
    assert editing == {"ChangeAction", "AmendChangeAction"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=fiches(), after=fiches())
def test_a_fiche_edited_in_the_form_reads_back_exactly(before: Action, after: Action) -> None:
    assume(len(after.indicators) <= len(before.indicators) + 1)  # the form of the old fiche has one blank row
    state = holding(before)
    typed = opened("ChangeAction", holding(after), "A1")  # the agent types the new fiche into the form of the old
    fields = fields_for(FORMS["ChangeAction"], state, "A1")
    for item in inputs_of(fields):
        if item.name not in typed and item.kind != "remove":
            typed[item.name] = ""  # what the agent cleared (an indicator row cleared is an indicator removed)
    body = body_of(fields, typed)
    assert Action.model_validate(body["action"]) == after
    try:
        events = change(state, body)
    except DomainError:  # a rule may refuse the new fiche: then it is not the round trip's business
        return
    if after == before:
        assert events == []
    else:
        (changed,) = events
        assert isinstance(changed, ActionChanged)
        assert evolve(state, changed).actions["A1"] == after


def test_an_indicator_row_is_removed_and_a_blank_row_adds_nothing() -> None:
    two = action(
        "A1",
        Axis.ENFANCE,
        10_000,
        indicators=(
            Indicator(code="beneficiaires", label="Bénéficiaires", baseline=1, targets=dict.fromkeys(YEARS, 2)),
            Indicator(code="places", label="Places", baseline=3, targets=dict.fromkeys(YEARS, 4)),
        ),
    )
    state = holding(two)
    fields = fields_for(FORMS["ChangeAction"], state, "A1")
    rows = {i.name.split(".")[2] for i in inputs_of(fields) if i.name.startswith("action.indicators.")}
    assert rows == {"0", "1", "2"}  # both indicators, and a blank row to add one
    typed = opened("ChangeAction", state, "A1") | {"action.indicators.0.retirer": "oui"}
    body = body_of(fields, typed)
    assert [i["code"] for i in body["action"]["indicators"]] == ["places"]
    (changed,) = change(state, body)
    assert [i.code for i in evolve(state, changed).actions["A1"].indicators] == ["places"]


def test_an_unchanged_change_action_records_nothing_in_the_domain() -> None:
    fiche = action("A1", Axis.ENFANCE, 10_000)
    state = holding(fiche)
    assert change(state, {"action": fiche.model_dump(mode="json")}) == []
    renamed = fiche.model_copy(update={"title": "Autre titre"})
    (changed,) = change(state, {"action": renamed.model_dump(mode="json")})
    assert isinstance(changed, ActionChanged)


def test_every_input_of_an_edit_form_is_prefilled_from_the_contract() -> None:
    fiche = action("A1", Axis.ENFANCE, 10_000)
    shown = opened("ChangeAction", holding(fiche), "A1")
    assert all(isinstance(i, Input) for i in inputs_of(fields_for(FORMS["ChangeAction"], holding(fiche), "A1")))
    assert shown["action.indicators.0.code"] == "beneficiaires" and shown["action.title"] == "Fiche A1"


def test_an_import_line_that_changes_nothing_records_nothing_unless_replaying_an_import_of_before() -> None:
    from domain.reprise import ImportLine, import_history

    fiche = action("A1", Axis.ENFANCE, 10_000)
    state = holding(fiche)
    line = ImportLine(line=1, command=command("ChangeAction", BORDEAUX, PREFET_33, at(2024, 1, 15), action=fiche))
    now = at(2024, 1, 16)
    events, _ = import_history([line], state, DEFAULT_POLICY, now)
    assert not any(isinstance(e, ActionChanged) for e in events)
    events, _ = import_history([line], state, DEFAULT_POLICY, now, unchanged_action_recorded=True)
    assert [e.action for e in events if isinstance(e, ActionChanged)] == [fiche]
