"""What every command shares: the consoles, exit codes, the API client, options."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from domain.errors import DomainError
from domain.money import MoneyFormatError, parse_euros
from pacte.client import ApiClient, ApiRefusal, euros_to_cents
from pacte.embedded import PortInUse
from pacte.logging import configure_logging
from pacte.runtime import configure_temporal_runtime
from pacte.service import ContractNotFound
from pacte.settings import get_settings
from pacte.tracing import configure_tracing

out = Console()
err = Console(stderr=True)
T = TypeVar("T")


JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]
OnOption = Annotated[
    str | None,
    typer.Option(
        "--on", help="When it happened (YYYY-MM-DD, a French date; or an ISO date-time). Default: now.", metavar="DATE"
    ),
]


def _dated(body: dict[str, Any], on: str | None) -> dict[str, Any]:
    return body if on is None else {**body, "occurred_at": on}


def _run(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; turn refusals into exit code 1 with the rule's sentence."""
    try:
        return asyncio.run(make())  # type: ignore[arg-type]
    except DomainError as error:
        err.print(f"[red]refused[/] ({error.code}): {error.message}")
        raise typer.Exit(1) from None
    except ContractNotFound as error:
        err.print(f"[red]not found[/]: {error}")
        raise typer.Exit(1) from None
    except (ConnectionError, PortInUse) as error:
        err.print(f"[red]error[/]: {error}")
        raise typer.Exit(1) from None


def _setup_logging(default: str = "json") -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format or default)  # type: ignore[arg-type]
    configure_temporal_runtime()
    configure_tracing(settings)


def _print_json(value: Any) -> None:
    out.print_json(json.dumps(value, default=str, ensure_ascii=False))


def _api() -> ApiClient:
    settings = get_settings()
    return ApiClient(settings.api_url, settings.token)


@contextlib.contextmanager
def _api_errors() -> Iterator[None]:
    """Around API calls: a refusal prints its problem and exits 1, an unreachable API exits 1 too."""
    try:
        yield
    except ApiRefusal as refusal:
        problem = refusal.problem
        err.print(f"[red]refused[/] ({problem.get('code')}, HTTP {refusal.status}): {problem.get('message')}")
        raise typer.Exit(1) from None
    except (ConnectionError, MoneyFormatError) as error:
        err.print(f"[red]error[/]: {error}")
        raise typer.Exit(1) from None


def _call(method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
    with _api_errors():
        return _api().call(method, path, body, **kwargs)


def _euros(text: str, field: str) -> int:
    """An amount typed in euros, in cents; an unreadable one is refused (exit 1) naming the field."""
    try:
        return parse_euros(text)
    except MoneyFormatError as exc:
        err.print(f"[red]refused[/] (invalid_value): {field}: {exc}")
        raise typer.Exit(1) from None


def _show_answer(answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _print_json(answer)
        return
    state = answer["state"]
    events = ", ".join(e["type"] for e in answer["events"]) or "nothing new (same request)"
    out.print(f"[green]done[/] {answer['contract_id']} v{answer['version']}: {events} — status {state['status']}")


def _body(data: str) -> Any:
    """JSON given inline or as @file; amounts may be written in euros."""
    text = Path(data[1:]).read_text() if data.startswith("@") else data
    try:
        return euros_to_cents(json.loads(text))
    except json.JSONDecodeError as exc:
        err.print(f"[red]usage[/]: --data is not JSON: {exc}")
        raise typer.Exit(2) from None
