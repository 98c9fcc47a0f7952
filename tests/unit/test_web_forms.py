"""Every operator command has a form whose inputs cover its body, and every refusal finds its place on the form."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from domain.errors import DomainError
from pacte.service.catalogue import COMMAND_KINDS, ProposeBody, command_body_models
from pacte.web.acts import _problems, _unreadable
from pacte.web.formats import day, euros, parse_day
from pacte.web.forms import (
    FORMS,
    SLUGS,
    FormRefused,
    Group,
    Input,
    body_of,
    fields_for,
    inputs_of,
    propose_fields,
    where,
)
from pacte.web.messages import in_french
from tests.unit.builders import bordeaux_in_execution

STATE = bordeaux_in_execution("reviewed").state
MISSING = in_french("missing", {}, "invalid_value")


def test_every_command_has_a_form_and_a_french_address() -> None:
    assert {form.sends for form in FORMS.values()} == set(COMMAND_KINDS)
    assert set(FORMS) == set(SLUGS)


@pytest.mark.parametrize("kind", COMMAND_KINDS)
def test_the_forms_of_a_command_cover_its_body_and_place_each_refusal(kind: str) -> None:
    """Every part of a command's body has an input in one of its forms (an avenant's fiches actions added, changed and
    removed each have a form of their own), and a refusal naming a part is shown on every form that has it."""
    forms = [form for form in FORMS.values() if form.sends == kind]
    every = {form.kind: fields_for(form, STATE, "A1") for form in forms}
    names = {i.name for fields in every.values() for i in inputs_of(fields)}
    model = command_body_models()[kind]
    for field_name, info in model.model_fields.items():
        if any(field_name == form.key and form.key_in_path for form in forms):
            continue
        assert any(n == field_name or n.startswith(field_name + ".") for n in names), (
            f"{kind}: no input for {field_name}"
        )
        for sub in getattr(info.annotation, "model_fields", {}):
            path = f"{field_name}.{sub}"
            assert any(n == path or n.startswith(path + ".") for n in names), f"{kind}: no input for {path}"
    for form_kind, fields in every.items():
        for name in (i.name for i in inputs_of(fields)):
            # a refusal deeper than an input (an amount's year, a map's key) goes to that input
            assert where(fields, f"{name}.detail") == name, (form_kind, name)
        named = {g.name for g in fields if not isinstance(g, Input)} | {i.name for i in inputs_of(fields)}
        for field_name in model.model_fields:
            # A part with its own input (or fieldset) is refused there; a part made of several inputs (the year's
            # amounts: a total above the ceiling) is refused in the form's summary, never at one of its inputs.
            assert where(fields, field_name) == (field_name if field_name in named else None), (form_kind, field_name)


def test_an_avenant_changes_a_fiche_from_its_prefilled_form() -> None:
    form = FORMS["AmendChangeAction"]
    fields = fields_for(form, STATE, "A1")
    shown = {i.name: i.value for i in inputs_of(fields) if i.value}
    assert shown["terms.changed_actions.0.action_id"] == "A1"
    body = body_of(
        fields, shown | {"amendment_id": "AV-1", "reason": "Ajustement", "terms.changed_actions.0.title": "T"}
    )
    assert body["terms"]["changed_actions"][0]["title"] == "T"
    assert body["terms"]["changed_actions"][0]["indicators"] == [
        i.model_dump(mode="json") for i in STATE.actions["A1"].indicators
    ]
    removed = body_of(fields_for(FORMS["AmendRemoveAction"], STATE), {"terms.removed_actions.0": "A2"})
    assert removed["terms"]["removed_actions"] == ["A2"]


def test_a_posted_action_becomes_the_command_body() -> None:
    fields = fields_for(FORMS["AddAction"], STATE)
    body = body_of(
        fields,
        {
            "action.action_id": "A9",
            "action.axis": "EMPLOI",
            "action.indicators.0.code": "IND",
            "action.indicators.0.baseline": "1 200",
            "action.indicators.0.targets.2026": "10",
            "action.amounts.2026.etat": "1 500 000,00 €",
            "action.amounts.2026.collectivite": "1500000",
            "action.amounts.2027.partenaires": "",
            "occurred_at": "28/03/2026",
        },
    )
    assert body["action"]["amounts"] == {"2026": {"etat": 150_000_000, "collectivite": 150_000_000}}
    assert body["action"]["indicators"] == [{"code": "IND", "baseline": 1200, "targets": {"2026": 10}}]
    assert body["occurred_at"] == "2026-03-28"


def test_unreadable_values_are_refused_naming_their_input_all_at_once() -> None:
    fields = fields_for(FORMS["AddAction"], STATE)
    with pytest.raises(FormRefused) as refused:
        body_of(
            fields,
            {
                "action.amounts.2026.etat": "1,2,3 €",
                "occurred_at": "31/02/2026",
                "action.indicators.0.baseline": "beaucoup",
                "action.title": "Fiche",
            },
        )
    found = {(r.field, r.rule, r.params.get("value")) for r in refused.value.refusals}
    assert found == {
        ("action.amounts.2026.etat", "invalid_amount", "1,2,3 €"),
        ("occurred_at", "invalid_date", "31/02/2026"),
        ("action.indicators.0.baseline", "invalid_integer", "beaucoup"),
    }
    assert refused.value.partial["action"]["title"] == "Fiche"  # what was readable, for the schema's own checks


def test_french_words_for_amounts_and_dates() -> None:
    assert euros(150_000_000) == "1\u202f500\u202f000,00\u00a0€"
    assert euros(-5) == "-0,05\u00a0€"
    assert day("2024-03-28") == "28 mars 2024" and day("2024-03-01") == "1er mars 2024"
    assert day("2024-03-28T23:30:00+00:00") == "29 mars 2024"  # a moment is read in Paris
    assert parse_day("28/03/2024") == parse_day("2024-03-28") == parse_day("28.03.2024")


def test_the_proposal_is_a_form_of_the_catalogue_and_takes_french_dates() -> None:
    fields = propose_fields((("D33", "Gironde"),))
    names = {i.name for i in inputs_of(fields)}
    assert names >= set(ProposeBody.model_fields) - {"draft_actions"}  # the first draft's fiches: the API's
    body = body_of(fields, {"territory": "D33", "annual_ceiling": "1 500 000,00 €", "occurred_at": "01/12/2023"})
    assert body == {"territory": "D33", "annual_ceiling": 150_000_000, "occurred_at": "2023-12-01"}
    assert ProposeBody.model_validate(body).occurred_at == date(2023, 12, 1)


def _date_inputs() -> list[tuple[str, Input]]:
    every = [(kind, fields_for(form, STATE, "A1")) for kind, form in FORMS.items()]
    every.append(("ProposeContract", propose_fields(())))
    return [(kind, i) for kind, fields in every for i in inputs_of(fields) if i.kind == "date"]


@pytest.mark.parametrize(("kind", "item"), _date_inputs(), ids=lambda v: getattr(v, "name", v))
def test_every_date_input_takes_french_and_iso_dates_the_same_way(kind: str, item: Input) -> None:
    for typed in ("01/12/2023", "1/12/2023", "2023-12-01", " 01.12.2023 "):
        assert body_of([item], {item.name: typed}) == _nested(item.name, "2023-12-01"), (kind, typed)
    for wrong in ("2023-13-01", "31/02/2024", "demain", "12/2023"):
        with pytest.raises(FormRefused) as refused:
            body_of([item], {item.name: wrong})
        (problem,) = refused.value.refusals
        assert problem.field == item.name and problem.rule == "invalid_date"


def test_audit_dates_go_through_the_same_parsing() -> None:
    from pacte.web.audit import _date

    assert _date("01/12/2023", "as_of") == date(2023, 12, 1) == _date("2023-12-01", "as_of")
    with pytest.raises(DomainError) as refused:
        _date("31/02/2024", "as_of")
    assert refused.value.field == "as_of" and refused.value.rule == "invalid_date"


def _nested(path: str, value: str) -> dict[str, object]:
    node: dict[str, object] = {}
    top = node
    *parents, leaf = path.split(".")
    for part in parents:
        child: dict[str, object] = {}
        node[part] = child
        node = child
    node[leaf] = value
    return top


def _missing_at_optional(fields: list[Any], posted: dict[str, str], kind: str) -> list[str]:
    """The refusals "Ce champ est obligatoire" a posted form gets at an input labelled facultatif (or at a fieldset
    whose inputs all are)."""
    model = command_body_models()[kind]
    try:
        body = body_of(fields, posted)
    except FormRefused as unreadable:
        problems = _unreadable(unreadable, model, fields)
    else:
        try:
            model.model_validate(body)
            return []
        except ValidationError as error:
            problems = _problems(error, fields)
    optional = {i.name for i in inputs_of(fields) if not i.required}
    optional |= {g.name for g in fields if isinstance(g, Group) and all(i.name in optional for i in g.inputs)}
    return [f"{p.label}: {p.sentence}" for p in problems if p.sentence == MISSING and p.at in optional]


@pytest.mark.parametrize("kind", sorted(FORMS))
def test_no_input_labelled_facultatif_is_refused_as_missing(kind: str) -> None:
    """Found by a user walk: "2025 — Collectivité (facultatif)" refused as obligatoire once État was filled (when
    another value of the form could not be read), and the mid-term evaluation, every fiche marked facultatif, refused
    empty as obligatoire. Over the catalogue: the form sent empty, then each fieldset with its first amount filled
    and another value unreadable, never says "obligatoire" at an input it calls facultatif."""
    form = FORMS[kind]
    fields = fields_for(form, STATE, "A1")
    found = _missing_at_optional(fields, {}, form.sends)
    for group in (g for g in fields if isinstance(g, Group)):
        amounts = [i.name for i in group.inputs if i.kind == "euros"]
        if len(amounts) >= 2:
            found += _missing_at_optional(fields, {amounts[0]: "1 000,00 €", amounts[-1]: "beaucoup"}, form.sends)
            found += _missing_at_optional(fields, {amounts[0]: "1 000,00 €"}, form.sends)
    assert not found, (kind, found)


@pytest.mark.parametrize("kind", sorted(FORMS))
def test_a_form_offers_only_what_its_person_may_choose(kind: str) -> None:
    """Found by a user walk: the préfet's avenant signature offered the collectivité's party, then refused it; the
    renewal offered years it refused; a département's fiche offered the Emploi axis; a contract with no fiche offered
    to change or remove one. Every choice of every form is what the decider takes (the same domain functions)."""
    from domain.axes import TerritoryKind
    from domain.rules.parties import party_of
    from pacte.web.pages import acts_for
    from pacte.web.session import Person
    from tests.unit.builders import BORDEAUX_COLL, PREFET_33, Contract, at

    form = FORMS[kind]
    departement = STATE.model_copy(update={"kind": TerritoryKind.DEPARTEMENT})
    for actor in (PREFET_33, BORDEAUX_COLL):
        for state in (STATE, departement):
            for item in inputs_of(fields_for(form, state, "A1", actor)):
                offered = {v for v, _ in item.options}
                if item.name == "party":
                    assert offered == {party_of(actor).value}, (kind, actor.role, offered)
                if item.name.endswith(".axis"):
                    assert offered == {a.value for a in state.axes}, (kind, state.kind, offered)
                if kind == "Renew" and item.name == "year":
                    taken = set()
                    for year in range(2023, 2029):
                        c = Contract(STATE.contract_id)
                        c.state = state
                        try:
                            c.decide("Renew", PREFET_33, at(2024, 12, 1), year=year, amounts={})
                        except DomainError as error:
                            if "renewal.wrong_year" in {e.rule for e in error.all}:
                                continue
                        taken.add(str(year))
                    assert offered == taken, (offered, taken)
    empty = bordeaux_in_execution("proposed", actions=()).state
    for actor in (PREFET_33, BORDEAUX_COLL):
        now = at(2024, 1, 1)
        who = Person(name="x", organisation="y", actor=actor, signed_in_at=now, expires_at=now)
        assert not any("une-action" in link and "ajouter" not in link for link, _, _ in acts_for(who, empty))
