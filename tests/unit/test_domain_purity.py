"""The domain is pure: it imports only the standard library, pydantic and itself, and never reads a clock."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
ALLOWED_THIRD_PARTY = {"pydantic", "pydantic_core"}
CLOCK_CALLS = {"now", "today", "utcnow", "time", "monotonic", "perf_counter", "time_ns"}
FORBIDDEN_MODULES = {"random", "uuid", "os", "socket", "asyncio", "threading", "subprocess", "pathlib"}


def modules() -> list[Path]:
    return sorted(DOMAIN.rglob("*.py"))  # sub-packages too (domain/rules)


def test_domain_imports_only_stdlib_pydantic_and_itself() -> None:
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top == "domain" or top in ALLOWED_THIRD_PARTY or top in sys.stdlib_module_names, (
                    f"{path.name} imports {name}"
                )
                assert top not in FORBIDDEN_MODULES, f"{path.name} imports {name}: no I/O, no randomness in the domain"


def test_domain_never_reads_a_clock() -> None:
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr not in CLOCK_CALLS, f"{path.name}:{node.lineno} calls .{node.func.attr}()"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "open", f"{path.name}:{node.lineno} opens a file"
