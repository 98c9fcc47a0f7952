"""The CLI's way to the HTTP API: the operators' commands go through the API, so the same rules apply to both."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from domain.money import parse_euros

MONEY_KEYS = {"etat", "collectivite", "partenaires", "annual_ceiling", "declared_reversement"}
MONEY_MAPS = {"spending", "etat_spent", "collectivite_spent"}


class ApiRefusal(Exception):
    """The API said no: its problem (code, message, field) and HTTP status."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(problem.get("message", f"HTTP {status}"))
        self.status = status
        self.problem = problem


def euros_to_cents(value: Any, key: str | None = None, in_money_map: bool = False) -> Any:
    """Amounts may be written in euros ("1 500 000,00 €") anywhere an amount goes; the API takes cents."""
    if isinstance(value, dict):
        return {k: euros_to_cents(v, k, k in MONEY_MAPS) for k, v in value.items()}
    if isinstance(value, list):
        return [euros_to_cents(v) for v in value]
    if isinstance(value, str) and (key in MONEY_KEYS or in_money_map):
        return parse_euros(value)
    return value


class ApiClient:
    def __init__(self, base_url: str, token: str | None, timeout: float = 60) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    def call(
        self, method: str, path: str, body: Any = None, *, params: dict[str, Any] | None = None, key: str | None = None
    ) -> Any:
        headers = {"Idempotency-Key": key} if key else {}
        return self._send(method, path, json=body, params=params, headers=headers)

    def call_text(self, method: str, path: str, text: str) -> Any:
        """Send a text body (an import file, JSON lines)."""
        return self._send(method, path, content=text.encode(), headers={"Content-Type": "application/x-ndjson"})

    def _send(self, method: str, path: str, **request: Any) -> Any:
        try:
            response = self.http.request(method, path, **request)
        except httpx.TransportError as exc:
            raise ConnectionError(f"cannot reach the API at {self.http.base_url}: {exc}") from exc
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"code": "http_error", "message": response.text[:300], "field": None}
            raise ApiRefusal(response.status_code, problem)
        return response.json()

    def stream(self, path: str, params: dict[str, Any] | None = None) -> Iterator[bytes]:
        with self.http.stream("GET", path, params=params) as response:
            if response.status_code >= 400:
                raise ApiRefusal(response.status_code, response.json() if response.read() else {})
            yield from response.iter_bytes()
