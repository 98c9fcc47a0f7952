"""`python -m bench.web_tools`: the agents' daily pages at 123 and 5 000 contracts (issue 26) — the contract list
(searched, filtered, sorted, paged by keyset), a contract's page and its timeline — as p50/p95 of repeated requests.

One service (a fresh database, a Temporal dev server, a worker, the composed application) with Nantes Métropole taken
over from its real file (examples/reprise-nantes-metropole.jsonl): its page and its timeline are the measured ones.
The other contracts are **read-model rows inserted directly** (``pacte_project``, the function every append calls),
each a copy of Nantes' state under a simulated intercommunalité's name with a status, a year and a ceiling of its own:
the list reads the read model only, and filling 5 000 contracts through their workflows (bench.scale) takes longer than
this shared machine allows. So the contract page and the timeline are measured beside a read model of N contracts but
an event store holding Nantes' stream alone (they read one stream by its index, and one workflow).

Requests go to the application in process (httpx's ASGI transport, signed in as the demo auditor: every contract in
scope): what is measured is the page's whole server side — session, query, rendering — not the network. The list's
first request after the read model moved derives the search rows of every contract that moved (contract_search):
reported apart as ``first_list_ms``. Prints one JSON object, on the last line of its output (the Temporal dev
server's banner goes to the same stdout): ``… | tail -1``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from bench.database import bench_database
from domain.actors import Actor, Role
from domain.state import ContractState
from domain.status import Status
from domain.territories import synthetic_territory
from eventstore.projections import summary_json
from eventstore.store import EventStore
from pacte.app import create_app
from pacte.embedded import SERVER_STARTUP, binary_path
from pacte.logging import configure_logging
from pacte.runtime import build_worker
from pacte.service.facade import Pacte
from pacte.settings import Settings
from pacte.web.signin import demo_grants
from workflows.contract import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[1]
NANTES = "cls-244400404"
PREFET_44 = Actor(role=Role.PREFET, identity="prefecture-loire-atlantique", scope=("44",))
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
STATUSES = [Status.IN_EXECUTION, Status.PROPOSED, Status.SIGNED, Status.SUSPENDED, Status.IN_EXECUTION]


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "min_ms": round(ordered[0], 1),
        "max_ms": round(ordered[-1], 1),
        "n": len(ordered),
    }


async def timed(fn: Callable[[], Awaitable[None]], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def fill(store: EventStore, nantes: ContractState, count: int) -> None:
    """The read model with Nantes and ``count - 1`` copies of its state under simulated intercommunalités."""
    await store.pool.execute("DELETE FROM contract_summary WHERE contract_id <> $1", NANTES)
    await store.pool.execute("DELETE FROM contract_search")
    rows = []
    for n in range(1, count):
        territory = synthetic_territory(f"0{n:08d}")
        assert territory is not None
        state = nantes.model_copy(
            update={
                "contract_id": territory.contract_id,
                "territory_id": territory.id,
                "territory_name": territory.name,
                "region": territory.region,
                "departements": territory.departements,
                "status": STATUSES[n % len(STATUSES)],
                "current_year": 2024 + n % 4,
                "annual_ceiling": [50_000_000, 150_000_000, 250_000_000][n % 3],
                "last_at": (nantes.last_at or datetime(2026, 1, 1, tzinfo=UTC)) - timedelta(days=n % 400),
            }
        )
        rows.append(summary_json(state))
    async with store.pool.acquire() as conn:
        await conn.executemany("SELECT pacte_project($1::text::jsonb, NULL)", [(row,) for row in rows])


async def signed_in(http: httpx.AsyncClient) -> None:
    page = await http.get("/ui/connexion")
    token = CSRF.search(page.text)
    assert token is not None
    answer = await http.post(
        "/ui/connexion", data={"identity": "auditor", "next": "/ui/contrats", "csrf_token": token[1]}
    )
    assert answer.status_code == 303, answer.text


async def measure(http: httpx.AsyncClient, repeat: int) -> dict[str, Any]:
    async def get(path: str) -> str:
        answer = await http.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        return answer.text

    start = time.perf_counter()
    await get("/ui/contrats")
    first = (time.perf_counter() - start) * 1000
    third_page = "/ui/contrats?tri=plafond&ordre=desc"
    for _ in range(2):
        found = re.search(r'id="page-suivante" href="([^"]+)"', await get(third_page))
        assert found is not None
        third_page = "/ui/contrats" + found[1].replace("&amp;", "&")
    lists = {
        "first_page_by_name": "/ui/contrats",
        "region_and_status_by_ceiling_desc": "/ui/contrats?region=84&statut=IN_EXECUTION&tri=plafond&ordre=desc",
        "en_retard_by_last_fact": "/ui/contrats?en_retard=1&tri=activite&ordre=desc",
        "name_search": "/ui/contrats?q=fictive+n%C2%B0+12",
        "departement_and_year": "/ui/contrats?departement=13&annee=2025",
        "third_page_by_ceiling_desc": third_page,
    }
    figures: dict[str, Any] = {"first_list_ms": round(first, 1), "list": {}}
    every: list[float] = []
    for name, path in lists.items():
        samples = await timed(lambda p=path: get(p), repeat)  # type: ignore[misc]
        figures["list"][name] = percentiles(samples)
        every += samples
    figures["list_all"] = percentiles(every)
    figures["contract_page"] = percentiles(await timed(lambda: get(f"/ui/contrats/{NANTES}"), repeat))
    figures["timeline"] = percentiles(await timed(lambda: get(f"/ui/contrats/{NANTES}/historique"), repeat))
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contracts", default="123,5000", help="comma-separated sizes (default 123,5000)")
    parser.add_argument("--repeat", type=int, default=40, help="requests of each page per size (p50/p95 over them)")
    parser.add_argument("--quick", action="store_true", help="150 and 500 contracts, 10 requests each")
    args = parser.parse_args()
    sizes = [150, 500] if args.quick else [int(n) for n in args.contracts.split(",")]
    repeat = 10 if args.quick else args.repeat
    configure_logging("WARNING", "json")
    async with bench_database() as (url, admin, which):
        store = await EventStore.connect(url)
        env = await WorkflowEnvironment.start_local(
            data_converter=pydantic_data_converter,
            dev_server_existing_path=binary_path("temporal"),
            dev_server_startup_timeout=SERVER_STARTUP,
            search_attributes=SEARCH_ATTRIBUTES,
            dev_server_extra_args=["--log-level", "error"],
        )
        data = Path(tempfile.mkdtemp(prefix="pacte-bench-web-"))
        settings = Settings(task_queue=f"bench-web-{uuid.uuid4().hex[:8]}", data_dir=data, demo_sign_in=True)
        demo_grants(settings)
        pacte = Pacte(client=env.client, store=store, settings=settings)
        app = create_app(settings, service=pacte)
        result: dict[str, Any] = {
            "benchmark": "web_tools",
            "filled": "read-model rows inserted directly (pacte_project), copies of Nantes Métropole's state; the "
            "event store and Temporal hold Nantes alone (the contract page and timeline measured are its)",
            "measured": "in process (httpx ASGI), signed in as the demo auditor; p50/p95 over every request",
            "run": {
                "server": which,
                "postgres": await admin.fetchval("SHOW server_version"),
                "python": platform.python_version(),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}",
                "repeat": repeat,
                "quick": args.quick,
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
            "sizes": {},
        }
        try:
            async with build_worker(env.client, store, settings.task_queue), app.router.lifespan_context(app):
                report = await pacte.import_file(
                    PREFET_44, (ROOT / "examples/reprise-nantes-metropole.jsonl").read_text()
                )
                assert report.imported + report.unchanged == 1, report
                nantes = await pacte.contract(PREFET_44, NANTES)
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://pacte") as http:
                    await signed_in(http)
                    for size in sizes:
                        await fill(store, nantes, size)
                        print(f"filled {size}", file=sys.stderr)
                        figures = await measure(http, repeat)
                        figures["load_average_after"] = round(os.getloadavg()[0], 1)
                        result["sizes"][str(size)] = figures
        finally:
            await env.shutdown()
            await store.close()
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
