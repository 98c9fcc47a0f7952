"""Defect 2 of issue 24 on a real Temporal server: the worker is down over New Year, so the timers of 1 January fire
on the server but no worker records their facts before a command dated after them arrives. The command is decided
on the calendar brought up to its date (``domain.calendar.calendar_until``, used by the update's validator, its
handler and the import alike), so the record is the one the same facts typed on time give:

- the collectivité signs the renewal for 2025 after New Year: 2025 opened without it and the missed renewal is
  recorded; the signature is refused as too late, as it would be typed on time;
- a résiliation dated after New Year settles 2024 and 2025, as the same facts imported settle them.

The dev server's clock is real, so the contracts' business clock (their workflow's offset) is set to reach midnight in
Paris on 1 January 2025 a minute or so after they start: their 2024 facts are sent with the worker up, the worker
stops before midnight, the clock passes it (the timers fire, nobody records them), the commands dated
1 January 2025 at 00:00:30 are sent, then the worker comes back. (The time-skipping server cannot do this: it moves
its clock no further while a timer's workflow task waits for a worker.)"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.commands import Command
from domain.errors import DomainError
from domain.evolve import fold
from domain.policy import in_code
from domain.reprise import ImportLine, import_history
from domain.state import INITIAL_STATE, ContractState
from domain.territories import REFERENCE_TERRITORIES
from domain.upcasting import parse_event
from eventstore.store import EventStore
from pacte import service
from pacte.runtime import build_worker
from pacte.simulation import _command, actors_for, plan_for
from tests.waiting import eventually
from workflows.contract import ContractWorkflow

pytestmark = pytest.mark.integration

NEW_YEAR = datetime(2024, 12, 31, 23, tzinfo=UTC)  # midnight in Paris
AFTER = NEW_YEAR + timedelta(seconds=30)  # the commands' business time, once the worker is down
LEAD = timedelta(seconds=90)  # business time before midnight when the contracts start (their 2024 facts sent then)
RENEWED, RESILIE = "D32", "D34"  # Gers, Hérault: départements no other test proposes


def worker(env: WorkflowEnvironment, store: EventStore, queue: str):  # type: ignore[no-untyped-def]
    return build_worker(env.client, store, queue, max_cached_workflows=0)


async def business_now(env: WorkflowEnvironment, offset: timedelta) -> datetime:
    return await env.get_current_time() + offset


async def send_2024(env: WorkflowEnvironment, queue: str, territory_id: str, offset: timedelta) -> list[Command]:
    """The plan's facts of 2024 up to its committee (and, for the renewed one, the renewal for 2025 proposed and
    signed by the État on 10 December), each dated on its day; returns them as sent."""
    territory = REFERENCE_TERRITORIES[territory_id]
    plan = plan_for(territory, seed=5, incidents=False)
    a = actors_for(territory)
    await service.start_contract(env.client, queue, plan.contract_id, clock_offset_s=offset.total_seconds())
    sent = []
    state: ContractState = INITIAL_STATE
    for step in [s for s in plan.steps if s.at < datetime(2024, 11, 20, tzinfo=UTC)]:
        cmd = step.build(state, step.at)
        if cmd is not None:
            state = (await service.send_command(env.client, cmd)).state
            sent.append(cmd)
    assert state.year(2024).reviews and state.current_year == 2024, state
    if territory_id == RENEWED:
        amounts = {k: v.amounts[2025] for k, v in list(state.actions.items())[:2]}
        for cmd in (
            _command("Renew", plan.contract_id, a["prefet"], datetime(2024, 12, 10, 9, tzinfo=UTC), year=2025,
                     amounts=amounts),
            _command("SignAvenant", plan.contract_id, a["prefet"], datetime(2024, 12, 10, 10, tzinfo=UTC),
                     avenant_id="renewal-2025", party="etat", signatory="Préfet"),
        ):  # fmt: skip
            await service.send_command(env.client, cmd)
            sent.append(cmd)
    return sent


@pytest.fixture(scope="module")
async def over_new_year(temporal_env: WorkflowEnvironment, store: EventStore) -> dict[str, Any]:
    env, queue = temporal_env, f"new-year-{uuid.uuid4().hex[:6]}"
    offset = NEW_YEAR - LEAD - await env.get_current_time()
    async with worker(env, store, queue):
        sent = dict(zip((RENEWED, RESILIE), await asyncio.gather(*(send_2024(env, queue, t, offset) for t in (RENEWED, RESILIE))), strict=True))  # fmt: skip
        assert await business_now(env, offset) < NEW_YEAR - timedelta(seconds=5), "the 2024 facts took too long"

    # The worker is down: the clock passes midnight in Paris, the timers of 1 January fire, nobody records them.
    async def past_midnight() -> bool:
        return await business_now(env, offset) >= AFTER + timedelta(seconds=2)

    await eventually(past_midnight, within_s=(LEAD + timedelta(minutes=1)).total_seconds(), every_s=0.5)
    renewed, resilie = (f"cls-{t.lower()}" for t in (RENEWED, RESILIE))
    later = {
        RENEWED: _command("SignAvenant", renewed, actors_for(REFERENCE_TERRITORIES[RENEWED])["collectivite"], AFTER,
                          avenant_id="renewal-2025", party="collectivite", signatory="Président"),
        RESILIE: _command("Terminate", resilie, actors_for(REFERENCE_TERRITORIES[RESILIE])["prefet"], AFTER,
                          reason="Résiliation"),
    }  # fmt: skip
    answers = {t: asyncio.ensure_future(service.send_command(env.client, c)) for t, c in later.items()}
    async with worker(env, store, queue):
        outcomes = dict(zip(answers, await asyncio.gather(*answers.values(), return_exceptions=True), strict=True))
        states = {
            t: await service.handle(env.client, f"cls-{t.lower()}").query(ContractWorkflow.state) for t in answers
        }
    streams = {t: [parse_event(e.payload) for e in await store.read_stream(f"cls-{t.lower()}")] for t in answers}
    return {"sent": sent, "later": later, "outcomes": outcomes, "states": states, "streams": streams}


def imported(sent: list[Command], later: Command) -> list[Any]:
    """The same facts from a file, the calendar's interleaved at their dates (the last one refused: left out)."""
    lines = [ImportLine(line=n, command=c) for n, c in enumerate(sent, 1)]
    try:
        events, _ = import_history([*lines, ImportLine(line=len(lines) + 1, command=later)], INITIAL_STATE, in_code(),
                                   AFTER + timedelta(seconds=1))  # fmt: skip
    except DomainError:
        events, _ = import_history(lines, INITIAL_STATE, in_code(), AFTER + timedelta(seconds=1))
    return events


def business(state: ContractState) -> dict[str, Any]:
    dumped = state.model_dump(mode="json", include={"status", "current_year", "years", "avenants", "balance"})
    dumped["missed"] = sorted((m.deadline, m.year or 0) for m in state.missed_deadlines)
    return dumped


async def test_a_renewal_signed_after_new_year_without_a_worker_is_too_late_and_its_miss_recorded(
    over_new_year: dict[str, Any],
) -> None:
    answer = over_new_year["outcomes"][RENEWED]
    assert isinstance(answer, DomainError) and answer.rule == "renewal.too_late", answer
    events = over_new_year["streams"][RENEWED]
    new_year = sorted(e.type for e in events if e.occurred_at >= NEW_YEAR)
    assert new_year == ["DeadlineMissed", "ProgrammeYearOpened"], new_year  # nothing of the refused signature
    state = fold(events)
    assert ("renewal", 2025) in {(m.deadline, m.year) for m in state.missed_deadlines}
    assert state.current_year == 2025 and not state.year(2025).renewed
    assert state.avenants["renewal-2025"].signatures == ("etat",)
    assert over_new_year["states"][RENEWED] == state
    expected = imported(over_new_year["sent"][RENEWED], over_new_year["later"][RENEWED])
    assert business(state) == business(fold(expected))


async def test_a_resiliation_after_new_year_without_a_worker_settles_what_the_import_settles(
    over_new_year: dict[str, Any],
) -> None:
    answer = over_new_year["outcomes"][RESILIE]
    assert not isinstance(answer, BaseException), answer
    events = over_new_year["streams"][RESILIE]
    types = [e.type for e in events]
    assert types.index("ContractTerminated") > max(i for i, t in enumerate(types) if t == "ProgrammeYearOpened")
    state = fold(events)
    assert state.current_year == 2025 and state.balance is not None
    assert state.balance.programmed_etat == state.etat_total(2024) + state.etat_total(2025) > state.etat_total(2024)
    assert over_new_year["states"][RESILIE] == state
    expected = imported(over_new_year["sent"][RESILIE], over_new_year["later"][RESILIE])
    assert business(state) == business(fold(expected))
