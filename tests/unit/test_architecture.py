"""The entry layer shows the architecture: the API, the CLI and the web interface are thin over one service layer —
each imports the service layer and the domain's models, nothing deeper (no workflow, no event store, no Temporal
or database driver), and none imports another. And a command's roles, stages and handler are declared in one place:
on its handler, in domain/rules; every table keyed by command type is built from those declarations."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENTRY_PACKAGES = ("api", "cli", "web")
DEEPER = ("workflows", "activities", "eventstore", "temporalio", "asyncpg")


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ENTRY_PACKAGES)
def test_an_entry_package_reaches_only_the_service_layer_and_the_domain(package: str) -> None:
    modules = sorted((ROOT / "pacte" / package).rglob("*.py"))
    assert modules, f"pacte/{package} holds no module"
    others = [f"pacte.{p}" for p in ENTRY_PACKAGES if p != package]
    for module in modules:
        for name in imports_of(module):
            where = f"{module.relative_to(ROOT)} imports {name}"
            assert not name.startswith(DEEPER), where
            assert not any(name == o or name.startswith(o + ".") for o in others), where


def test_the_service_layer_knows_no_entry_package() -> None:
    for module in sorted((ROOT / "pacte" / "service").rglob("*.py")):
        for name in imports_of(module):
            assert not name.startswith(tuple(f"pacte.{p}" for p in ENTRY_PACKAGES)), f"{module} imports {name}"


def test_the_architecture_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    # The check above must be able to fail: an entry module importing the event store is caught.
    module = tmp_path / "bad.py"
    module.write_text("from eventstore.store import EventStore\nimport pacte.api\n")
    assert {"eventstore.store", "pacte.api"} <= imports_of(module)


# --- a command's roles, stages and handler are declared in one place ------------------------------------------------

RULES_PACKAGE = ROOT / "domain" / "rules"
CODE_PACKAGES = ("domain", "pacte", "workflows", "activities", "eventstore")


def command_tables(path: Path, kinds: set[str]) -> list[str]:
    """The dict literals of ``path`` keyed by several command types whose values are not plain labels (a URL slug, a
    title): a second table of roles, stages or handlers. One line each."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Dict):
            continue
        keyed = [
            value
            for key, value in zip(node.keys, node.values, strict=True)
            if isinstance(key, ast.Constant) and key.value in kinds
        ]
        if len(keyed) >= 2 and not all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in keyed):
            found.append(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name}:{node.lineno}")
    return found


def test_a_commands_roles_stages_and_handler_are_declared_in_one_place() -> None:
    from domain.commands import COMMAND_TYPES
    from domain.lifecycle import WHEN as OFFERED
    from domain.rules import ALLOWED_ROLES, RULES, WHEN

    # Every command has one declaration, on a handler in domain/rules ...
    assert set(RULES) == set(COMMAND_TYPES)
    for kind, declared in RULES.items():
        assert declared.command == kind
        assert declared.handler.__module__.startswith("domain.rules."), f"{kind}: {declared.handler.__module__}"
        # ... and the tables others read are that declaration, not a copy of it.
        assert ALLOWED_ROLES[kind] is declared.roles
        assert WHEN.get(kind) is declared.stages
    assert OFFERED is WHEN
    # No other module keeps a table of roles, stages or handlers keyed by command type.
    tables = [
        table
        for package in CODE_PACKAGES
        for module in sorted((ROOT / package).rglob("*.py"))
        if not module.is_relative_to(RULES_PACKAGE)
        for table in command_tables(module, set(COMMAND_TYPES))
    ]
    assert tables == [], f"tables keyed by command type outside domain/rules: {tables}"


def test_the_one_place_check_sees_a_second_table_and_a_second_declaration(tmp_path: Path) -> None:
    # The check above must be able to fail: a roles table and a handlers table written elsewhere are caught, a table
    # of labels is not, and a command declared twice is refused when its module loads.
    from domain.actors import Role
    from domain.commands import COMMAND_TYPES, AddAction
    from domain.rules.declaration import rule

    module = tmp_path / "tables.py"
    module.write_text(
        "ROLES = {'AddAction': frozenset({Role.PREFET}), 'Renew': frozenset({Role.PREFET})}\n"
        "HANDLERS = {'AddAction': _add, 'Renew': _renew}\n"
        "SLUGS = {'AddAction': 'ajouter-une-action', 'Renew': 'renouvellement'}\n"
    )
    assert command_tables(module, set(COMMAND_TYPES)) == ["tables.py:1", "tables.py:2"]
    with pytest.raises(ValueError, match="AddAction's rules are declared twice"):
        rule(AddAction, roles={Role.PREFET})(lambda command, state, policy: [])
