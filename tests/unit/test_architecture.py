"""The entry layer shows the architecture: the API, the CLI and the web interface are thin over one service layer —
each imports the service layer and the domain's models, nothing deeper (no workflow, no event store, no Temporal
or database driver), and none imports another."""

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
