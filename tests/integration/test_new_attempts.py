"""When a territory's new attempt may start (issue 24, defects 10 and 11), through the service the API, the web and
the import call, on a real PostgreSQL and a real Temporal server: an import never creates a second live contract, a
half-signed contract résilié does not lock its territory out, a new attempt is never dated before the earlier one
ended, and two proposals at once leave one live contract."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.actors import Actor, Role
from domain.deadlines import pending_deadlines
from domain.errors import DomainError
from domain.policy import in_code
from domain.status import LIVE_STATUSES
from eventstore.store import EventStore
from pacte.reprise_file import dump_lines
from pacte.service.catalogue import ProposeBody
from pacte.service.facade import Pacte
from pacte.service.operations import latest_attempt
from pacte.settings import Settings
from tests.unit.builders import BORDEAUX_ACTIONS

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "reprise-nantes-metropole.jsonl"


def prefet(dep: str) -> Actor:
    return Actor(role=Role.PREFET, identity=f"prefecture-{dep}", scope=(dep,))


def history(siren: str, dep: str, contract_id: str, *, signed: int, terminated_on: str | None) -> list[dict[str, Any]]:
    """Nantes's example history moved to another métropole: proposed, deliberated, ``signed`` signatures, then
    résilié by the préfet on ``terminated_on`` (or still under way)."""
    text = EXAMPLE.read_text().replace("cls-244400404", contract_id).replace("244400404", siren)
    lines = [json.loads(raw) for raw in text.splitlines()[: 2 + signed]]
    for line in lines:
        if line["actor"]["role"] == "prefet":
            line["actor"] = prefet(dep).model_dump(mode="json")
    if terminated_on is not None:
        lines.append(
            {
                "type": "Terminate",
                "contract_id": contract_id,
                "occurred_at": terminated_on,
                "actor": prefet(dep).model_dump(mode="json"),
                "source": f"Arrêté de résiliation du {terminated_on}",
                "reason": "Changement d'exécutif",
            }
        )
    return lines


async def no_workflow(client: Client, contract_id: str) -> bool:
    try:
        await client.get_workflow_handle(contract_id).describe()
    except RPCError as exc:
        return exc.status is RPCStatusCode.NOT_FOUND
    return False


def service(client: Client, store: EventStore, task_queue: str) -> Pacte:
    return Pacte(client=client, store=store, settings=Settings(task_queue=task_queue))


async def test_an_import_while_the_territorys_contract_runs_is_refused_and_writes_nothing(
    client: Client, task_queue: str, store: EventStore
) -> None:
    """Tours: its contract runs (signed by both); a file taking over a ``cls-243700754-2`` is refused at the territory,
    nothing is started or written; the running contract is untouched."""
    pacte, tours = service(client, store, task_queue), prefet("37")
    first = "cls-243700754"
    done = await pacte.import_file(tours, dump_lines(history("243700754", "37", first, signed=2, terminated_on=None)))
    assert done.imported == 1, done
    before = await store.stream_version(first)
    second = "cls-243700754-2"
    lines = history("243700754", "37", second, signed=0, terminated_on=None)[:1]
    lines[0]["occurred_at"] = "2025-01-06"
    report = await pacte.import_file(tours, dump_lines(lines))
    refused = report.contracts[0]
    assert (report.refused, refused.field, refused.code) == (1, "territory", "already_exists"), report
    assert first in (refused.message or "")
    assert await no_workflow(client, second) and await store.stream_version(second) == 0
    assert await store.stream_version(first) == before
    # and a proposal for Tours is refused the same way
    with pytest.raises(DomainError) as caught:
        await pacte.propose(tours, ProposeBody(territory="243700754", annual_ceiling=90_000_000))
    assert (caught.value.field, caught.value.rule) == ("territory", "attempt.earlier_live")


async def test_a_half_signed_contract_resilie_lets_its_territory_start_again_from_the_day_it_ended(
    client: Client, task_queue: str, store: EventStore
) -> None:
    """Orléans: deliberated, signed by the État only, résilié on 15 May 2024. A new attempt dated 14 May (by import or
    by proposal) is refused at its date with nothing written; one dated 15 May is cls-244500468-2, replacing it."""
    pacte, orleans = service(client, store, task_queue), prefet("45")
    first = "cls-244500468"
    lines = history("244500468", "45", first, signed=1, terminated_on="2024-05-15")
    done = await pacte.import_file(orleans, dump_lines(lines))
    assert done.imported == 1, done
    second = "cls-244500468-2"
    early = history("244500468", "45", second, signed=0, terminated_on=None)[:1]
    early[0]["occurred_at"] = "2024-05-14"
    report = await pacte.import_file(orleans, dump_lines(early))
    assert (report.refused, report.contracts[0].field) == (1, "occurred_at"), report
    assert await no_workflow(client, second) and await store.stream_version(second) == 0
    with pytest.raises(DomainError) as caught:
        await pacte.propose(
            orleans, ProposeBody(territory="244500468", annual_ceiling=90_000_000, occurred_at="2024-05-14")
        )
    assert (caught.value.field, caught.value.rule) == ("occurred_at", "attempt.before_earlier_end")
    assert caught.value.params["end_date"] == "2024-05-15"
    assert await no_workflow(client, second)
    answer = await pacte.propose(
        orleans, ProposeBody(territory="244500468", annual_ceiling=90_000_000, occurred_at="2024-05-15")
    )
    assert answer.contract_id == second and answer.events[0]["replaces"] == first
    # Its deadlines follow from its own dates: proposed after 31 March 2024, it owes no métropole signature deadline
    # (the first rules recorded it missed at once, the timers firing right after the proposal).
    assert pending_deadlines(answer.state, in_code()) == []
    # A later command brings the calendar's facts due by its date in first (issue 24): none is due.
    action = BORDEAUX_ACTIONS[0].model_dump(mode="json")
    await pacte.command(orleans, "AddAction", {"contract_id": second}, {"action": action, "occurred_at": "2024-06-01"})
    assert "DeadlineMissed" not in [e.event_type for e in await store.read_stream(second)]
    state = await pacte.contract(orleans, second)
    assert state.missed_deadlines == () and pending_deadlines(state, in_code()) == []


async def test_two_proposals_at_once_leave_one_live_contract(
    client: Client, task_queue: str, store: EventStore
) -> None:
    """Dijon: its contract résilié before signature, two préfecture agents propose again at the same moment, and a
    file taking over a third attempt comes in with them: exactly one new contract is created, the others refused."""
    pacte, dijon = service(client, store, task_queue), prefet("21")
    first = "cls-242100410"
    done = await pacte.import_file(
        dijon, dump_lines(history("242100410", "21", first, signed=0, terminated_on="2024-04-02"))
    )
    assert done.imported == 1, done
    third = history("242100410", "21", "cls-242100410-3", signed=0, terminated_on=None)[:1]
    third[0]["occurred_at"] = "2024-06-01"
    body = ProposeBody(territory="242100410", annual_ceiling=90_000_000, occurred_at="2024-06-01")
    outcomes = await asyncio.gather(
        pacte.propose(dijon, body),
        pacte.propose(dijon, body),
        pacte.import_file(dijon, dump_lines(third)),
        return_exceptions=True,
    )
    created = [o for o in outcomes[:2] if not isinstance(o, BaseException)]
    refused = [o for o in outcomes[:2] if isinstance(o, DomainError)]
    report = outcomes[2]
    assert not isinstance(report, BaseException), report
    imported = report.imported
    assert len(created) + imported == 1, outcomes
    assert len(refused) == 2 - len(created) and all(r.code == "already_exists" for r in refused), outcomes
    live = []
    for attempt in ("", "-2", "-3"):
        cid = first + attempt
        if await store.stream_version(cid) > 0:
            state = await pacte.contract(dijon, cid)
            live += [cid] if state.status in LIVE_STATUSES else []
    assert len(live) == 1, live
    _, state = await latest_attempt(store, first)
    assert state is not None and state.contract_id == live[0]


async def test_an_imported_later_attempt_follows_a_contract_pacte_holds(
    client: Client, task_queue: str, store: EventStore
) -> None:
    """Clermont has no contract in Pacte: a file taking over ``cls-246300701-2`` is refused at its contract id (a
    campaign or a proposal would otherwise start ``cls-246300701`` beside it), nothing written."""
    pacte, clermont = service(client, store, task_queue), prefet("63")
    second = "cls-246300701-2"
    report = await pacte.import_file(
        clermont, dump_lines(history("246300701", "63", second, signed=0, terminated_on=None)[:1])
    )
    assert (report.refused, report.contracts[0].field) == (1, "contract_id"), report
    assert "cls-246300701" in (report.contracts[0].message or "")
    assert await no_workflow(client, second) and await store.stream_version(second) == 0
