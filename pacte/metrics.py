"""What Pacte counts, for Prometheus: commands and their outcomes, refusals by rule, appends (latency, batch size,
events), verifications, and — read from the event store when scraped — contracts by status and reminders pending.
The Temporal SDK's own runtime metrics (workflow task failures, slots, latencies) are served beside them: the SDK
exports them on a loopback port and ``exposition()`` appends them, so one endpoint shows both."""

from __future__ import annotations

import socket
from typing import Any

import httpx
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

COMMANDS = Counter(
    "pacte_commands", "Operator commands handled, by type and outcome", ["command", "outcome"], registry=REGISTRY
)
REFUSALS = Counter("pacte_refusals", "Commands refused, by the rule's code", ["code"], registry=REGISTRY)
APPEND_SECONDS = Histogram(
    "pacte_append_seconds",
    "Time to append one batch of events (the append activity)",
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
APPEND_BATCH = Histogram(
    "pacte_append_batch_size", "Events per append", buckets=(1, 2, 3, 5, 10, 20, 50, 100, 500), registry=REGISTRY
)
APPEND_FAILURES = Counter("pacte_append_failures", "Appends that failed, by class", ["kind"], registry=REGISTRY)
EVENTS_APPENDED = Counter("pacte_events_appended", "Events appended to the store", registry=REGISTRY)
VERIFY_RUNS = Counter("pacte_verify_runs", "Store verifications, by result", ["result"], registry=REGISTRY)
CONTRACTS = Gauge("pacte_contracts", "Contracts by status (read model)", ["status"], registry=REGISTRY)
REMINDERS_PENDING = Gauge("pacte_reminders_pending", "Reminders not yet sent (outbox)", registry=REGISTRY)

# Known label values start at zero, so a rate is defined (and a dashboard finds the series) before the first one.
for _kind in ("concurrency", "transient", "refused"):
    APPEND_FAILURES.labels(_kind)
for _result in ("intact", "tampered"):
    VERIFY_RUNS.labels(_result)

_sdk_metrics: list[str] = []  # where the Temporal SDK serves its runtime metrics in this process


def sdk_metrics_address() -> str:
    """A loopback port for the Temporal SDK's Prometheus exporter, remembered for ``exposition()``."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
    _sdk_metrics[:] = [address]
    return address


async def exposition() -> bytes:
    """Ours, then the SDK's (if this process runs one), in Prometheus' text format."""
    text = generate_latest(REGISTRY)
    for address in _sdk_metrics:
        try:
            async with httpx.AsyncClient(timeout=2) as http:
                text += (await http.get(f"http://{address}/metrics")).content
        except httpx.HTTPError:
            text += b"# the Temporal SDK's metrics did not answer\n"
    return text


def worker_app() -> Any:
    """What `pacte worker` serves on PACTE_METRICS_PORT: /metrics (its counters and the SDK's) and /health."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def metrics(_: Request) -> Response:
        return Response(await exposition(), media_type=CONTENT_TYPE_LATEST)

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/metrics", metrics), Route("/health", health)])
