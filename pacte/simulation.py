"""A seeded, realistic 2024–2027 programme, driven through the same updates an operator sends.

Each territory gets a plan: a proposal with actions on its axes, the deliberation, both signatures, then every year a
committee review, a renewal signed by both parties, the previous year's execution report (some État credits left
unspent: réfaction), the mid-term evaluation, and finally closing with its balance. A few contracts are suspended
then resumed, a few terminated, a few reports come late (the workflows' timers record the missed deadlines).
Year boundaries and closing are not in the plan: the workflows' own timers open them.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.actors import Actor, Role
from domain.commands import COMMAND_ADAPTER, Command
from domain.policy import DEFAULT_POLICY, Policy
from domain.state import ContractState
from domain.territories import Territory, contract_id_for
from domain.values import Action, Indicator, Nature, Reinforcement, YearAmounts

SIMULATION_START = datetime(2023, 11, 1, tzinfo=UTC)
EUR = 100

OBJECTIVES = {
    "ENFANCE": ["Soutenir les familles précaires", "Prévenir le décrochage scolaire des 11–15 ans"],
    "EMPLOI": ["Lever les freins à l'emploi : garde d'enfants", "Accès aux soins des personnes précaires"],
    "GRANDE_EXCLUSION": ["Repérer les situations en amont", "Former les professionnels de l'accompagnement"],
    "TRANSITION_ECOLOGIQUE": ["Lutter contre la précarité énergétique", "Alimentation durable et accessible"],
}


@dataclass(frozen=True)
class Step:
    at: datetime
    contract_id: str
    # Builds the command from the contract's current state (amounts depend on what was agreed so far).
    build: Callable[[ContractState, datetime], Command | None]


@dataclass
class Plan:
    territory: Territory
    steps: list[Step] = field(default_factory=list)
    terminated_in: int | None = None
    suspended_in: int | None = None
    late_report: int | None = None

    @property
    def contract_id(self) -> str:
        return contract_id_for(self.territory.id)


def _command(kind: str, contract_id: str, actor: Actor, at: datetime, **fields: Any) -> Command:
    # The request id derives from the contract, the command and its business time: a rerun of the same seed sends
    # the very same commands, so two runs can be compared event by event.
    request_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"pacte-simulation/{contract_id}/{kind}/{at.isoformat()}"))
    return COMMAND_ADAPTER.validate_python(
        {"type": kind, "contract_id": contract_id, "actor": actor, "request_id": request_id, "at": at, **fields}
    )


def actors_for(territory: Territory) -> dict[str, Actor]:
    return {
        "prefet": Actor(
            role=Role.PREFET, identity=f"prefecture-{territory.departements[0]}", scope=territory.departements
        ),
        "collectivite": Actor(role=Role.COLLECTIVITE, identity=f"dgs-{territory.id}", scope=(territory.id,)),
        "commissaire": Actor(
            role=Role.COMMISSAIRE, identity=f"commissaire-{territory.region}", scope=(territory.region,)
        ),
    }


def _day(year: int, month: int, day: int, rng: random.Random, spread: int = 10) -> datetime:
    base = datetime(year, month, day, 9, tzinfo=UTC)
    return base + timedelta(days=rng.randint(0, spread), minutes=rng.randint(0, 480))


def plan_for(territory: Territory, seed: int, policy: Policy = DEFAULT_POLICY, *, incidents: bool = True) -> Plan:
    """The plan of one contract. ``incidents=False``: no suspension, termination or late report."""
    rng = random.Random(f"{seed}:{territory.id}")
    plan = Plan(territory)
    cid, a = plan.contract_id, actors_for(territory)
    ceiling = rng.randrange(500_000, 3_000_000, 10_000) * EUR
    actions: list[Action] = []
    budget = ceiling
    for axis in territory.axes:
        for n in range(rng.randint(1, 2)):
            share = (ceiling // len(territory.axes) // 2 // EUR) * EUR
            amount = rng.randrange(share // 2, share + 1, 1000 * EUR) if share > 2000 * EUR else share
            amount = min(amount, budget)
            budget -= amount
            reinforced = rng.random() < 0.4
            actions.append(
                Action(
                    action_id=f"{axis.value[:3]}{n + 1}",
                    axis=axis,
                    objective=rng.choice(OBJECTIVES[axis.value]),
                    title=f"Fiche {axis.value.lower()} {n + 1}",
                    nature=Nature.REINFORCED if reinforced else Nature.NEW,
                    reinforcement=rng.choice(list(Reinforcement)) if reinforced else None,
                    public=rng.choice(["familles monoparentales", "jeunes de 16–25 ans", "personnes sans domicile"]),
                    zone=rng.choice(["tout le territoire", "quartiers prioritaires", "zones rurales"]),
                    indicators=(
                        Indicator(
                            code="beneficiaires",
                            label="Personnes accompagnées",
                            baseline=rng.randint(50, 500),
                            targets={y: rng.randint(100, 900) for y in policy.years},
                        ),
                    ),
                    amounts={y: YearAmounts(etat=amount, collectivite=amount) for y in policy.years},
                )
            )
    terminate_at = rng.choice([None] * 30 + [2024, 2025, 2026])
    suspend_in = rng.choice([None] * 12 + [2024, 2025, 2026])
    late_report = rng.choice([None] * 6 + [2024, 2025])
    if not incidents:
        terminate_at = suspend_in = late_report = None
    plan.terminated_in, plan.suspended_in, plan.late_report = terminate_at, suspend_in, late_report

    def add(at: datetime, build: Callable[[ContractState, datetime], Command | None]) -> None:
        plan.steps.append(Step(at=at, contract_id=cid, build=build))

    # Départements' contracts come under the instruction of 23 November 2023, métropoles' under that of 27 October.
    proposed_from = policy.earliest_date_for(territory.kind) + timedelta(days=1)
    add(
        max(
            _day(2023, 11, 15, rng, 30),
            datetime(proposed_from.year, proposed_from.month, proposed_from.day, 9, tzinfo=UTC),
        ),
        lambda s, t: _command(
            "ProposeContract",
            cid,
            a["prefet"],
            t,
            territory_id=territory.id,
            annual_ceiling=ceiling,
            draft_actions=actions,
        ),
    )
    add(
        _day(2024, 1, 20, rng, 30),
        lambda s, t: _command(
            "RecordDeliberation",
            cid,
            a["collectivite"],
            t,
            deliberation={
                "body": rng.choice(["assemblee", "commission_permanente"]),
                "voted_on": t.date(),
                "reference": f"DEL-{cid}",
            },
        ),
    )
    first, second = rng.sample(["etat", "collectivite"], 2)
    for i, party in enumerate((first, second)):
        who = a["prefet"] if party == "etat" else a["collectivite"]
        add(
            _day(2024, 3, 1 + 10 * i, rng, 8),
            lambda s, t, party=party, who=who: _command(
                "SignContract", cid, who, t, party=party, signatory=who.identity
            ),
        )

    for year in policy.years:
        if terminate_at == year:
            add(
                _day(year, 9, 1, rng, 60),
                lambda s, t: _command("Terminate", cid, a["prefet"], t, reason="Résiliation : objectifs non tenus"),
            )
            break
        if suspend_in == year:
            add(
                _day(year, 6, 1, rng, 20),
                lambda s, t, year=year: _command(
                    "RecordCommitteeReview",
                    cid,
                    a["commissaire"],
                    t,
                    year=year,
                    review_date=t.date(),
                    findings="Retards importants",
                    decision="SUSPEND",
                ),
            )
            add(
                _day(year, 7, 15, rng, 20),
                lambda s, t: _command("Resume", cid, a["prefet"], t, reason="Plan de rattrapage adopté"),
            )
        add(
            _day(year, 10, 15, rng, 30),
            lambda s, t, year=year: _command(
                "RecordCommitteeReview",
                cid,
                a["commissaire"],
                t,
                year=year,
                review_date=t.date(),
                indicator_values={k: {"beneficiaires": rng.randint(80, 900)} for k in s.actions},
                spending={
                    k: v.amounts[year].etat * rng.randint(50, 90) // 100
                    for k, v in s.actions.items()
                    if year in v.amounts
                },
                findings="Mise en œuvre conforme",
                decision=rng.choice(["CONTINUE", "CONTINUE", "ADJUST"]),
            ),
        )
        if year < policy.last_year:
            nxt = year + 1
            add(
                _day(year, 11, 25, rng, 5),
                lambda s, t, nxt=nxt: _command(
                    "Renew",
                    cid,
                    a["prefet"],
                    t,
                    year=nxt,
                    amounts={k: v.amounts[nxt] for k, v in list(s.actions.items())[:2]},
                ),
            )
            add(
                _day(year, 12, 3, rng, 5),
                lambda s, t, nxt=nxt: _command(
                    "SignAvenant",
                    cid,
                    a["prefet"],
                    t,
                    avenant_id=f"renewal-{nxt}",
                    party="etat",
                    signatory=a["prefet"].identity,
                ),
            )
            add(
                _day(year, 12, 10, rng, 5),
                lambda s, t, nxt=nxt: _command(
                    "SignAvenant",
                    cid,
                    a["collectivite"],
                    t,
                    avenant_id=f"renewal-{nxt}",
                    party="collectivite",
                    signatory=a["collectivite"].identity,
                ),
            )
        report_year, due = year, policy.report_deadline(year)
        report_at = _day(due.year, 2, 1, rng, 40) if late_report != year else _day(due.year, 5, 1, rng, 20)
        if year == policy.last_year:
            report_at = _day(2028, 2, 1, rng, 30)

        def report(s: ContractState, t: datetime, report_year: int = report_year) -> Command:
            etat = {
                k: v.amounts[report_year].etat * rng.choice([100, 100, 95, 90]) // 100
                for k, v in s.actions.items()
                if report_year in v.amounts
            }
            coll = {
                k: v.amounts[report_year].etat * rng.choice([100, 100, 100, 97]) // 100
                for k, v in s.actions.items()
                if report_year in v.amounts
            }
            return _command(
                "SubmitExecutionReport",
                cid,
                a["collectivite"],
                t,
                year=report_year,
                etat_spent=etat,
                collectivite_spent=coll,
            )

        add(report_at, report)
        if year == 2026:
            add(
                _day(2026, 6, 1, rng, 20),
                lambda s, t: _command(
                    "RecordMidTermEvaluation",
                    cid,
                    a["commissaire"],
                    t,
                    evaluations={k: "Évaluation à mi-parcours : conforme" for k in s.actions},
                ),
            )
    else:
        add(_day(2028, 3, 10, rng, 10), lambda s, t: _command("CloseContract", cid, a["prefet"], t))
    plan.steps.sort(key=lambda step: step.at)
    return plan


def first_date(plans: list[Plan]) -> date:
    return min(step.at for plan in plans for step in plan.steps).date()
