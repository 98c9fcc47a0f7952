"""Helpers to build commands and run them through decide/evolve in tests, as the workflow does."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

from domain.actors import SYSTEM_ACTOR, Actor, Role
from domain.axes import Axis
from domain.commands import COMMAND_ADAPTER, Command
from domain.decider import decide
from domain.events import Event
from domain.evolve import evolve
from domain.policy import Policy, in_code
from domain.state import INITIAL_STATE, ContractState
from domain.values import Action, Indicator, Nature, YearAmounts

EUR = 100  # cents in a euro
YEARS = (2024, 2025, 2026, 2027)

_ids = itertools.count(1)


def prefet(*deps: str) -> Actor:
    return Actor(role=Role.PREFET, identity="prefet-" + "-".join(deps), scope=deps)


def collectivite(territory_id: str) -> Actor:
    return Actor(role=Role.COLLECTIVITE, identity=f"dgs-{territory_id}", scope=(territory_id,))


def commissaire(region: str) -> Actor:
    return Actor(role=Role.COMMISSAIRE, identity=f"commissaire-{region}", scope=(region,))


AUDITOR = Actor(role=Role.AUDITOR, identity="cour-des-comptes", scope=("*",))
SYSTEM = SYSTEM_ACTOR


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def amounts(euros: int, cents: int = 0, years: tuple[int, ...] = YEARS) -> dict[int, YearAmounts]:
    value = euros * EUR + cents
    return {y: YearAmounts(etat=value, collectivite=value) for y in years}


def action(action_id: str, axis: Axis, euros: int, **overrides: Any) -> Action:
    fields: dict[str, Any] = {
        "action_id": action_id,
        "axis": axis,
        "objective": f"Objectif de {action_id}",
        "title": f"Fiche {action_id}",
        "nature": Nature.NEW,
        "public": "familles précaires",
        "zone": "tout le territoire",
        "indicators": (
            Indicator(code="beneficiaires", label="Bénéficiaires", baseline=100, targets=dict.fromkeys(YEARS, 120)),
        ),
        "amounts": amounts(euros),
    }
    fields.update(overrides)
    return Action(**fields)


def command(kind: str, contract_id: str, actor: Actor, when: datetime, **fields: Any) -> Command:
    return COMMAND_ADAPTER.validate_python(
        {
            "type": kind,
            "contract_id": contract_id,
            "actor": actor,
            "request_id": f"req-{next(_ids)}",
            "at": when,
            **fields,
        }
    )


class Contract:
    """A contract driven through decide/evolve like the workflow drives it, keeping every event."""

    def __init__(self, contract_id: str, policy: Policy | None = None) -> None:
        self.contract_id = contract_id
        self.policy = in_code() if policy is None else policy  # the rules a contract started today is decided by
        self.state: ContractState = INITIAL_STATE
        self.events: list[Event] = []

    def decide(self, kind: str, actor: Actor, when: datetime, **fields: Any) -> list[Event]:
        return decide(command(kind, self.contract_id, actor, when, **fields), self.state, self.policy)

    def do(self, kind: str, actor: Actor, when: datetime, **fields: Any) -> list[Event]:
        events = self.decide(kind, actor, when, **fields)
        for event in events:
            self.state = evolve(self.state, event)
        self.events.extend(events)
        return events

    def send(self, cmd: Command) -> list[Event]:
        events = decide(cmd, self.state, self.policy)
        for event in events:
            self.state = evolve(self.state, event)
        self.events.extend(events)
        return events


# Bordeaux Métropole (région 75, Gironde) and its four actions, 1 400 000 € of État money a year.
BORDEAUX = "243300316"
BORDEAUX_ACTIONS = (
    action("A1", Axis.ENFANCE, 400_000),
    action("A2", Axis.EMPLOI, 300_000),
    action("A3", Axis.GRANDE_EXCLUSION, 500_000),
    action("A4", Axis.TRANSITION_ECOLOGIQUE, 200_000),
)
PREFET_33 = prefet("33")
BORDEAUX_COLL = collectivite(BORDEAUX)
COMMISSAIRE_75 = commissaire("75")


def bordeaux_in_execution(until: str = "in_execution", actions: tuple[Action, ...] = BORDEAUX_ACTIONS) -> Contract:
    """Bordeaux at a stage of its life: proposed, deliberated, in_execution (2024 open), reviewed (2024)."""
    c = Contract("cls-243300316")
    c.do(
        "ProposeContract",
        PREFET_33,
        at(2023, 12, 1),
        territory_id=BORDEAUX,
        annual_ceiling=1_500_000 * EUR,
        draft_actions=actions,
    )
    if until == "proposed":
        return c
    c.do(
        "RecordDeliberation",
        BORDEAUX_COLL,
        at(2024, 2, 15),
        deliberation={"body": "assemblee", "voted_on": date(2024, 2, 14), "reference": "DEL-2024-12"},
    )
    if until == "deliberated":
        return c
    c.do("SignContract", PREFET_33, at(2024, 3, 1), party="etat", signatory="Préfet de la Gironde")
    c.do(
        "SignContract", BORDEAUX_COLL, at(2024, 3, 5), party="collectivite", signatory="Président de Bordeaux Métropole"
    )
    if until == "in_execution":
        return c
    c.do(
        "RecordCommitteeReview",
        COMMISSAIRE_75,
        at(2024, 11, 20),
        year=2024,
        review_date=date(2024, 11, 18),
        findings="Actions lancées",
        decision="CONTINUE",
    )
    return c


def bordeaux_suspended() -> Contract:
    """Bordeaux in execution, suspended by the commissaire on 1 June 2024."""
    c = bordeaux_in_execution()
    c.do("Suspend", COMMISSAIRE_75, at(2024, 6, 1), reason="Contrôle")
    return c


def bordeaux_in_2025() -> Contract:
    """Bordeaux reviewed for 2024, with 2025 opened by the system."""
    c = bordeaux_in_execution("reviewed")
    c.do("OpenProgrammeYear", SYSTEM, at(2025, 1, 1), year=2025)
    return c
