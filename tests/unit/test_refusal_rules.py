"""Every place that raises a refusal names its rule, gives the parameters its French sentence needs, and that rule has
a French sentence: found by reading the code (every call of a DomainError class, every PydanticCustomError), so a new
raise site without them fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import ValidationError

import domain.errors
from domain.errors import DomainError
from pacte.web.messages import CODES, RULES, in_french, placeholders

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "eventstore", "activities", "workflows", "pacte")
# The family's own module defines the classes (and rebuilds a refusal from its details); every other call is a site.
DEFINITIONS = {"domain/errors.py"}
# Validators of configuration written by developers (the programme's policy), never of what an operator sends.
CONFIGURATION = {"domain/policy.py"}


def _refusal_classes() -> set[str]:
    """DomainError and its subclasses, by the names code calls them by (found in every package's modules)."""
    names = {"DomainError"}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(_name(b) in names for b in node.bases):
                names.add(node.name)
    names.update(c.__name__ for c in _subclasses(DomainError))
    return names


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    return found.union(*(_subclasses(c) for c in found)) if found else found


def _sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _sites() -> list[tuple[str, ast.Call]]:
    classes = _refusal_classes() - {"LineRefused"}  # LineRefused wraps a refusal made elsewhere (checked there)
    sites = []
    for path in _sources():
        relative = str(path.relative_to(ROOT))
        if relative in DEFINITIONS:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and _name(node.func) in classes | {"PydanticCustomError"}:
                sites.append((f"{relative}:{node.lineno}", node))
    return sites


SITES = _sites()


def test_the_scan_finds_the_raise_sites() -> None:
    # The scan itself can fail: it finds the refusals we know are there (a money rule, a web form's, the service's).
    where = {site.split(":")[0] for site, _ in SITES}
    assert {"domain/money_rules.py", "domain/rules/negotiation.py", "pacte/web/forms.py"} <= where
    assert {"pacte/service/facade.py", "domain/values.py", "domain/business_time.py"} <= where
    assert len(SITES) > 100


@pytest.mark.parametrize(("site", "call"), SITES, ids=[s for s, _ in SITES])
def test_every_refusal_names_its_rule_with_a_french_sentence_and_its_parameters(site: str, call: ast.Call) -> None:
    keywords = {k.arg: k.value for k in call.keywords}
    if _name(call.func) == "PydanticCustomError":
        rule_node: ast.expr | None = call.args[0] if call.args else None
        params_node = call.args[2] if len(call.args) > 2 else None
    else:
        rule_node, params_node = keywords.get("rule"), keywords.get("params")
    assert isinstance(rule_node, ast.Constant) and isinstance(rule_node.value, str), f"{site}: no rule id"
    rule = rule_node.value
    sentence = RULES.get(rule) or CODES.get(rule)
    assert sentence, f"{site}: rule {rule!r} has no French sentence in pacte/web/messages.py"
    needed = placeholders(sentence)
    given: set[str] = set()
    if params_node is not None:
        assert isinstance(params_node, ast.Dict), f"{site}: params are a dict written at the raise site"
        given = {k.value for k in params_node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    assert needed <= given, f"{site}: rule {rule!r} needs {sorted(needed - given)}"


def test_every_code_has_a_french_sentence() -> None:
    codes = {c.code for c in _subclasses(DomainError)} | {"domain_error"}
    for _, call in SITES:
        for k in call.keywords:
            if k.arg == "code" and isinstance(k.value, ast.Constant):
                codes.add(k.value.value)
    assert codes <= set(CODES), sorted(codes - set(CODES))


def test_validators_refuse_with_a_rule_not_a_bare_value_error() -> None:
    """A pydantic validator that raises ValueError gives pydantic's "value_error" and an English sentence: every
    validator of the commands' values raises PydanticCustomError with a rule id instead."""
    offenders = []
    for path in _sources():
        if str(path.relative_to(ROOT)) in CONFIGURATION:
            continue
        tree = ast.parse(path.read_text())
        used = {
            _name(arg)
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and _name(node.func) in ("BeforeValidator", "AfterValidator")
            for arg in node.args
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            decorated = any("validator" in (ast.unparse(d)) for d in node.decorator_list)
            if not (decorated or node.name in used):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Raise) and inner.exc is not None and "ValueError" in ast.unparse(inner.exc):
                    offenders.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert offenders == []


def test_a_sentence_fills_its_parameters_as_agents_read_them() -> None:
    params = {"action": "A1", "year": 2025, "etat_cents": 150_000_000, "collectivite_cents": 100_000}
    assert in_french("money.co_financing", params) == (
        "Fiche A1, 2025 : le montant de l'État (1\u202f500\u202f000,00\u00a0€) doit être égal à celui de la "
        "collectivité (1\u202f000,00\u00a0€) : chaque action est financée à parts égales."
    )
    assert in_french("date.in_future", {"date": "2099-03-28"}) == (
        "Le 28 mars 2099 est dans le futur : un fait s'enregistre une fois qu'il a eu lieu."
    )
    assert in_french("signature.already_signed", {"party": "etat"}) == "La partie État a déjà signé."
    assert in_french("signature.wrong_party", {"role": "prefet", "party": "collectivite"}) == (
        "Le rôle préfet signe pour sa propre partie, pas pour la partie collectivité."
    )
    # Parameters missing (an answer from an older worker): the code's sentence, never a half-filled one.
    assert in_french("date.in_future", {}, "date_out_of_programme") == CODES["date_out_of_programme"]


def test_a_refusal_keeps_its_rule_and_parameters_across_the_workflow() -> None:
    error = domain.errors.CeilingExceeded(
        "x", field="action.amounts", rule="money.ceiling", params={"year": 2025, "total_cents": 5, "ceiling_cents": 4}
    )
    again = DomainError.from_dict(error.details())
    assert (again.code, again.rule, again.params, again.field) == (
        "annual_ceiling_exceeded",
        "money.ceiling",
        {"year": 2025, "total_cents": 5, "ceiling_cents": 4},
        "action.amounts",
    )
    shape = error.to_dict()
    assert {k: shape[k] for k in ("code", "message", "field")} == {
        "code": "annual_ceiling_exceeded",
        "message": "x",
        "field": "action.amounts",
    }
    assert shape["errors"] == [error.one()]  # every refusal of the command, here the one


def test_a_reinforced_action_without_its_reinforcement_is_refused_by_its_rule() -> None:
    from tests.unit.builders import action

    with pytest.raises(ValidationError) as refused:
        action("A1", "ENFANCE", 10, nature="reinforced")  # type: ignore[arg-type]
    assert refused.value.errors()[0]["type"] == "action.reinforcement_missing"
