"""Read models for operators and auditors, derived from the contract events only.

The same code updates them inline (in the appending transaction) and rebuilds them from scratch, and no row holds
anything but what the events say (no clock, no sequence), so a rebuild gives exactly the same rows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from domain.evolve import evolve
from domain.state import INITIAL_STATE, ContractState
from domain.upcasting import parse_event
from eventstore.migrate import Conn

CONTRACT_CATEGORY = "cls"
_STATE_EXCLUDE = {"request_ids"}  # only decide needs them, and the workflow keeps its own state


def fold_payloads(state: ContractState, payloads: Iterable[dict[str, Any]]) -> ContractState:
    for payload in payloads:
        state = evolve(state, parse_event(payload))
    return state


def state_json(state: ContractState) -> str:
    return json.dumps(state.model_dump(mode="json", exclude=_STATE_EXCLUDE), sort_keys=True, ensure_ascii=False)


def axis_year_rows(state: ContractState) -> list[tuple[str, int, str, int, int, int, int]]:
    totals: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for action in state.actions.values():
        for year, amounts in action.amounts.items():
            row = totals[(year, action.axis.value)]
            row[0] += 1
            row[1] += amounts.etat
            row[2] += amounts.collectivite
            row[3] += amounts.partenaires
    return [(state.contract_id, year, axis, *values) for (year, axis), values in sorted(totals.items())]  # type: ignore[misc]


async def write_contract(conn: Conn, state: ContractState) -> None:
    assert state.last_at is not None and state.kind is not None
    await conn.execute(
        """INSERT INTO contract_summary (contract_id, territory_id, territory_name, kind, region, status, current_year,
                                         annual_ceiling, version, last_event_at, state)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::text::jsonb)
           ON CONFLICT (contract_id) DO UPDATE SET
               territory_id = EXCLUDED.territory_id, territory_name = EXCLUDED.territory_name, kind = EXCLUDED.kind,
               region = EXCLUDED.region, status = EXCLUDED.status, current_year = EXCLUDED.current_year,
               annual_ceiling = EXCLUDED.annual_ceiling, version = EXCLUDED.version,
               last_event_at = EXCLUDED.last_event_at, state = EXCLUDED.state""",
        state.contract_id,
        state.territory_id,
        state.territory_name,
        state.kind.value,
        state.region,
        state.status.value,
        state.current_year,
        state.annual_ceiling,
        state.version,
        state.last_at,
        state_json(state),
    )
    await conn.execute("DELETE FROM contract_axis_year WHERE contract_id = $1", state.contract_id)
    rows = axis_year_rows(state)
    if rows:
        await conn.executemany(
            """INSERT INTO contract_axis_year (contract_id, year, axis, actions, etat, collectivite, partenaires)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            rows,
        )


async def load_state(conn: Conn, contract_id: str, version: int) -> ContractState:
    """The contract's state at ``version``: from its summary row when current, else folded from its events."""
    row = await conn.fetchrow("SELECT version, state FROM contract_summary WHERE contract_id = $1", contract_id)
    if row is not None and row["version"] == version:
        return ContractState.model_validate(row["state"])
    payloads = await conn.fetch(
        "SELECT payload FROM events WHERE stream_id = $1 AND version <= $2 ORDER BY version", contract_id, version
    )
    return fold_payloads(INITIAL_STATE, (r["payload"] for r in payloads))


class ContractProjector:
    """Keeps contract_summary and contract_axis_year up to date inside the appending transaction."""

    def __init__(self) -> None:
        # The last state written per contract, valid only at that version: saves a read and a parse per append.
        self._cache: dict[str, ContractState] = {}

    def handles(self, stream_id: str) -> bool:
        return stream_id.startswith(CONTRACT_CATEGORY + "-")

    async def apply(
        self, conn: Conn, stream_id: str, expected_version: int, payloads: Sequence[dict[str, Any]]
    ) -> ContractState:
        cached = self._cache.get(stream_id)
        if cached is not None and cached.version == expected_version:
            state = cached
        else:
            state = await load_state(conn, stream_id, expected_version)
        state = fold_payloads(state, payloads)
        await write_contract(conn, state)
        return state

    def committed(self, state: ContractState) -> None:
        self._cache[state.contract_id] = state

    def forget(self, stream_id: str) -> None:
        self._cache.pop(stream_id, None)


async def rebuild(conn: Conn) -> int:
    """Drop every projected row and derive them again from the events; return the number of contracts."""
    async with conn.transaction():
        await conn.execute("DELETE FROM contract_axis_year")
        await conn.execute("DELETE FROM contract_summary")
        streams = await conn.fetch(
            "SELECT stream_id FROM streams WHERE category = $1 ORDER BY stream_id", CONTRACT_CATEGORY
        )
        for stream in streams:
            state = INITIAL_STATE
            # A cursor: a contract's history is folded as it streams in, never loaded whole.
            async for row in conn.cursor(
                "SELECT payload FROM events WHERE stream_id = $1 ORDER BY version", stream["stream_id"]
            ):
                state = evolve(state, parse_event(row["payload"]))
            await write_contract(conn, state)
    return len(streams)
