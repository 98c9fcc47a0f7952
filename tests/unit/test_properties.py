"""Property tests: random command sequences (a likely path mixed with random mistakes) never break an invariant."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import event as observe
from hypothesis import strategies as st

from domain.actors import Actor
from domain.axes import AXES_BY_KIND, Axis, TerritoryKind
from domain.commands import COMMAND_ADAPTER, COMMAND_TYPES, Command
from domain.decider import decide
from domain.errors import DomainError
from domain.events import EVENT_ADAPTER
from domain.evolve import evolve, fold
from domain.policy import DEFAULT_POLICY
from domain.state import INITIAL_STATE, ContractState, Status
from domain.upcasting import parse_event
from tests.unit.builders import AUDITOR, EUR, SYSTEM, action, at, collectivite, commissaire, prefet

TERRITORIES = {"243300316": ("33", "75"), "D33": ("33", "75")}
ACTION_IDS = ["A1", "A2", "A3", "A4", "A5"]
EUROS = [0, 50_000, 300_000, 400_000, 900_000]


def check_invariants(state: ContractState) -> None:
    if state.status is Status.NONE:
        assert state.version == 0
        return
    for year in DEFAULT_POLICY.years:
        assert state.etat_total(year) <= state.annual_ceiling, f"ceiling exceeded in {year}"
    for a in state.actions.values():
        assert a.axis in AXES_BY_KIND[state.kind]  # type: ignore[index]
        for amounts in a.amounts.values():
            assert amounts.etat == amounts.collectivite, "50/50 broken"
    assert len(state.signatures) <= 2
    if state.status in (Status.SIGNED, Status.IN_EXECUTION, Status.SUSPENDED, Status.CLOSING, Status.CLOSED):
        assert state.deliberation is not None and len(state.signatures) == 2
        if state.kind is TerritoryKind.METROPOLE:
            assert {a.axis for a in state.actions.values()} == set(Axis)
    if state.status in (Status.IN_EXECUTION, Status.SUSPENDED):
        assert state.current_year in DEFAULT_POLICY.years
    running = [y for y in DEFAULT_POLICY.years if state.year(y).opened]
    if state.kind is TerritoryKind.METROPOLE and state.status in (
        Status.IN_EXECUTION,
        Status.SUSPENDED,
        Status.CLOSING,
    ):
        for year in range(min(running), DEFAULT_POLICY.last_year + 1):  # every axis funded every year it runs
            funded = {a.axis for a in state.actions.values() if year in a.amounts and a.amounts[year].etat > 0}
            assert funded == set(Axis), f"an axis without money in {year}"
    for year in DEFAULT_POLICY.years:
        if state.year(year).report is not None or state.year(year).refaction:
            assert state.year(year - 1).opened or state.year(year).opened, f"money of {year}, a year never run"
    if state.balance is not None:
        b = state.balance
        assert min(b.model_dump().values()) >= 0, f"a negative balance field: {b}"
        assert b.programmed_etat == b.used_etat + b.recoverable_etat
        assert b.paid_etat == b.programmed_etat - b.refaction_applied
        assert b.reversement == b.paid_etat - b.used_etat >= 0


class Walk:
    def __init__(self, territory: str) -> None:
        self.territory = territory
        self.contract_id = f"cls-{territory.lower()}"
        dep, region = TERRITORIES[territory]
        self.actors = {
            "prefet": prefet(dep),
            "collectivite": collectivite(territory),
            "commissaire": commissaire(region),
            "system": SYSTEM,
        }
        self.state = INITIAL_STATE
        self.now = at(2023, 11, 1)
        self.n = 0

    def cmd(self, kind: str, actor: Actor, when: datetime | None = None, **fields: Any) -> Command:
        self.n += 1
        self.now = max(self.now, when or self.now)
        return COMMAND_ADAPTER.validate_python(
            {
                "type": kind,
                "contract_id": self.contract_id,
                "actor": actor,
                "request_id": f"r{self.n}",
                "at": self.now,
                **fields,
            }
        )

    def likely(self, draw: Any) -> Command:
        """The next command on a plausible path through the lifecycle."""
        s, a = self.state, self.actors
        if s.status is Status.NONE:
            return self.cmd("ProposeContract", a["prefet"], territory_id=self.territory, annual_ceiling=1_500_000 * EUR)
        if s.status in (Status.PROPOSED, Status.NEGOTIATING):
            missing = [x for x in AXES_BY_KIND[s.kind] if x not in {y.axis for y in s.actions.values()}]  # type: ignore[index]
            if missing:
                aid = f"A{len(s.actions) + 1}"
                return self.cmd(
                    "AddAction", a["collectivite"], action=action(aid, missing[0], draw(st.sampled_from(EUROS[1:3])))
                )
            return self.cmd(
                "RecordDeliberation",
                a["collectivite"],
                deliberation={"body": "assemblee", "voted_on": self.now.date(), "reference": "D"},
            )
        if s.status is Status.DELIBERATED:
            party = "collectivite" if "etat" in s.signatures else "etat"
            return self.cmd(
                "SignContract", a["prefet" if party == "etat" else "collectivite"], party=party, signatory="S"
            )
        if s.status is Status.SUSPENDED:
            return self.cmd("Resume", a["prefet"], reason="r")
        year = s.current_year or 2024
        if s.status is Status.IN_EXECUTION:
            if not s.year(year).reviews:
                when = max(self.now, at(year, 6, 1))
                return self.cmd(
                    "RecordCommitteeReview",
                    a["commissaire"],
                    when,
                    year=year,
                    review_date=min(when.date(), date(year, 12, 31)),
                    findings="f",
                    decision=draw(st.sampled_from(["CONTINUE", "CONTINUE", "ADJUST", "SUSPEND"])),
                )
            for y in range(2024, year):
                if s.year(y).report is None:
                    return self.report(y, draw)
            if year < 2027:
                renewal = s.avenants.get(f"renewal-{year + 1}")
                if renewal is None and self.now.year == year:
                    first = next(iter(s.actions.values()))
                    return self.cmd("Renew", a["prefet"], year=year + 1, amounts={first.action_id: first.amounts[year]})
                if renewal is not None and not renewal.concluded and self.now.year == year:
                    party = "collectivite" if "etat" in renewal.signatures else "etat"
                    actor = a["prefet" if party == "etat" else "collectivite"]
                    return self.cmd("SignAvenant", actor, avenant_id=renewal.avenant_id, party=party)
                return self.cmd("OpenProgrammeYear", SYSTEM, at(year + 1, 1, 1), year=year + 1)
            return self.cmd("BeginClosing", SYSTEM, at(2028, 1, 1))
        for y in DEFAULT_POLICY.years:
            if s.year(y).report is None:
                return self.report(y, draw)
        return self.cmd("CloseContract", a["prefet"])

    def report(self, year: int, draw: Any) -> Command:
        share = draw(st.sampled_from([0, 50, 100]))
        spent = {k: v.amounts[year].etat * share // 100 for k, v in self.state.actions.items() if year in v.amounts}
        return self.cmd(
            "SubmitExecutionReport",
            self.actors["collectivite"],
            max(self.now, at(year + 1, 1, 15)),
            year=year,
            etat_spent=spent,
            collectivite_spent=spent,
        )

    def random(self, draw: Any) -> Command:
        """Any command, often wrong: wrong role, wrong moment, bad amounts, unknown ids."""
        kind = draw(st.sampled_from(COMMAND_TYPES))
        actor = draw(st.sampled_from([*self.actors.values(), AUDITOR, prefet("13"), collectivite("243100518")]))
        year = draw(st.integers(2023, 2028))
        aid = draw(st.sampled_from(ACTION_IDS))
        euros = draw(st.sampled_from(EUROS))
        skew = draw(st.sampled_from([0, 0, 0, 1]))
        money = {"etat": euros * EUR, "collectivite": euros * EUR + skew}
        self.now += timedelta(days=draw(st.integers(0, 90)))
        fields: dict[str, Any] = {
            "ProposeContract": {"territory_id": self.territory, "annual_ceiling": euros * EUR},
            "AddAction": {"action": action(aid, draw(st.sampled_from(list(Axis))), euros)},
            "ChangeAction": {"action": action(aid, draw(st.sampled_from(list(Axis))), euros)},
            "RemoveAction": {"action_id": aid},
            "RecordDeliberation": {
                "deliberation": {"body": "assemblee", "voted_on": self.now.date(), "reference": "D"}
            },
            "SignContract": {"party": draw(st.sampled_from(["etat", "collectivite"])), "signatory": "S"},
            "RecordCommitteeReview": {
                "year": year,
                "review_date": min(self.now.date(), date(year, 12, 31)),
                "spending": {aid: euros * EUR},
                "findings": "f",
                "decision": draw(st.sampled_from(["CONTINUE", "ADJUST", "SUSPEND"])),
            },
            "Renew": {"year": year, "amounts": {aid: money}},
            "Amend": {"amendment_id": f"AV{year}", "year": year, "amounts": {aid: money}, "reason": "r"}
            | ({"replaces": f"AV{year - 1}"} if draw(st.booleans()) else {}),
            "SignAvenant": {"avenant_id": draw(st.sampled_from([f"renewal-{year}", f"AV{year}"])), "party": "etat"},
            "WithdrawAvenant": {"avenant_id": draw(st.sampled_from([f"renewal-{year}", f"AV{year}"])), "reason": "r"},
            "SubmitExecutionReport": {"year": year, "etat_spent": {aid: euros * EUR}, "collectivite_spent": {aid: 0}},
            "RecordMidTermEvaluation": {"evaluations": {k: "ok" for k in self.state.actions}},
            "Suspend": {"reason": "r"},
            "Resume": {"reason": "r"},
            "Terminate": {"reason": "r"},
            "BeginClosing": {},
            "CloseContract": {"declared_reversement": draw(st.sampled_from([None, 0, 1]))},
            "OpenProgrammeYear": {"year": year},
            "RecordMissedDeadline": {"deadline": "renewal", "year": year, "due": date(max(year, 2024) - 1, 12, 31)},
            "RectifyExecutionReport": {
                "year": year,
                "etat_spent": {aid: euros * EUR},
                "collectivite_spent": {aid: euros * EUR},
                "reason": "r",
            },
            "RectifySignature": {
                "party": draw(st.sampled_from(["etat", "collectivite"])),
                "signed_on": self.now.date() - timedelta(days=draw(st.integers(0, 60))),
                "reason": "r",
            },
            "RecordEnvelope": {
                "year": year,
                "movement": draw(st.sampled_from(["notification", "freeze", "release", "cancellation"])),
                "amount": euros * EUR,
                "reference": "Notification",
            },
            "RecordCommitment": {"year": year, "ej_number": f"21000000{year % 100:02d}", "amount": euros * EUR},
            "IssueRecoveryOrder": {"year": year, "titre_number": f"T{year}", "amount": euros * EUR},
            "RecordRecoveryCollected": {"titre_number": f"T{year}", "amount": euros * EUR},
            "RecordPayment": {
                "ej_number": f"21000000{year % 100:02d}",
                "instalment": draw(st.sampled_from(["avance", "solde"])),
                "amount": euros * EUR,
                "document": f"DP{draw(st.integers(0, 3))}",
            },
        }[kind]
        return self.cmd(kind, actor, **fields)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from(sorted(TERRITORIES)))
def test_random_command_sequences_keep_every_invariant(data: st.DataObject, territory: str) -> None:
    walk = Walk(territory)
    history = []
    for _ in range(data.draw(st.integers(20, 90))):
        if walk.state.status in (Status.CLOSED, Status.TERMINATED):
            break
        command = walk.likely(data.draw) if data.draw(st.integers(0, 9)) < 8 else walk.random(data.draw)
        before = walk.state
        try:
            events = decide(command, walk.state, DEFAULT_POLICY)
        except DomainError as error:
            assert error.code and error.message  # refused: no event, state untouched
            assert walk.state == before
            continue
        assert decide(command, walk.state, DEFAULT_POLICY) == events  # deterministic
        reported = {
            y: {k: a.amounts.get(y) for k, a in walk.state.actions.items()}
            for y in DEFAULT_POLICY.years
            if walk.state.year(y).report
        }
        for event in events:
            assert EVENT_ADAPTER.validate_json(event.model_dump_json()) == event
            assert parse_event(event.model_dump(mode="json")) == event
            walk.state = evolve(walk.state, event)
            check_invariants(walk.state)
        for year, before_amounts in reported.items():  # a year's money is frozen once its report is in
            assert {k: a.amounts.get(year) for k, a in walk.state.actions.items()} == before_amounts, year
        history.extend(events)
    assert fold(history) == walk.state  # the fold is the state, whoever folds it
    observe(f"reached {walk.state.status.value}")


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_the_likely_path_reaches_the_end(data: st.DataObject) -> None:
    walk = Walk("243300316")
    for _ in range(200):
        if walk.state.status in (Status.CLOSED, Status.TERMINATED):
            break
        for event in decide(walk.likely(data.draw), walk.state, DEFAULT_POLICY):
            walk.state = evolve(walk.state, event)
    assert walk.state.status in (Status.CLOSED, Status.TERMINATED)
    check_invariants(walk.state)
