"""Every rule of DOMAIN.md §3–§5, table-driven: one row accepted, one row refused (with its stable code and field)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from domain.axes import Axis
from domain.commands import COMMAND_ADAPTER
from domain.errors import DomainError
from domain.values import Action, Indicator, Nature
from tests.unit.builders import (
    AUDITOR,
    BORDEAUX,
    BORDEAUX_ACTIONS,
    BORDEAUX_COLL,
    COMMISSAIRE_75,
    EUR,
    PREFET_33,
    SYSTEM,
    Contract,
    action,
    amounts,
    at,
    bordeaux_in_2025,
    bordeaux_in_execution,
    bordeaux_suspended,
    collectivite,
    command,
    commissaire,
    prefet,
)

ROWS: list[tuple[str, Callable[[], Contract], str, Any, Any, dict[str, Any], str | None, str | None]] = []


def row(
    name: str,
    stage: Callable[[], Contract],
    kind: str,
    actor: Any,
    when: Any,
    fields: dict[str, Any],
    code: str | None = None,
    field: str | None = None,
) -> None:
    ROWS.append((name, stage, kind, actor, when, fields, code, field))


def proposed() -> Contract:
    return bordeaux_in_execution("proposed")


def deliberated() -> Contract:
    return bordeaux_in_execution("deliberated")


def in_execution() -> Contract:
    return bordeaux_in_execution("in_execution")


def reviewed() -> Contract:
    return bordeaux_in_execution("reviewed")


def bordeaux_without_emploi() -> Contract:
    c = Contract("cls-243300316")
    c.do(
        "ProposeContract",
        PREFET_33,
        at(2023, 12, 1),
        territory_id=BORDEAUX,
        annual_ceiling=1_500_000 * EUR,
        draft_actions=[a for a in BORDEAUX_ACTIONS if a.axis is not Axis.EMPLOI],
    )
    c.do(
        "RecordDeliberation",
        BORDEAUX_COLL,
        at(2024, 2, 15),
        deliberation={"body": "assemblee", "voted_on": date(2024, 2, 14), "reference": "D"},
    )
    return c


def gironde_proposed() -> Contract:
    c = Contract("cls-d33")
    c.do("ProposeContract", prefet("33"), at(2023, 12, 1), territory_id="D33", annual_ceiling=900_000 * EUR)
    return c


def closed_or_terminated() -> Contract:
    c = in_execution()
    c.do("Terminate", PREFET_33, at(2024, 5, 1), reason="Résiliation")
    return c


def unequal(etat: int, coll: int) -> dict[int, dict[str, int]]:
    return {2024: {"etat": etat, "collectivite": coll}}


NEW = action("A9", Axis.ENFANCE, 100_000)
SAME = {"etat": 400_000 * EUR, "collectivite": 400_000 * EUR}

# 1. 50/50 co-financing, for every action and every year.
row("50/50 accepted", proposed, "AddAction", PREFET_33, at(2024, 1, 5), {"action": NEW})
row(
    "50/50 refused on an action",
    proposed,
    "AddAction",
    PREFET_33,
    at(2024, 1, 5),
    {"action": action("A9", Axis.ENFANCE, 0, amounts=unequal(100 * EUR, 99 * EUR))},
    "co_financing_50_50",
    "action.amounts",
)
row(
    "50/50 accepted on a renewal",
    reviewed,
    "Renew",
    PREFET_33,
    at(2024, 12, 1),
    {"year": 2025, "amounts": {"A1": SAME}},
)
row(
    "50/50 refused on a renewal",
    reviewed,
    "Renew",
    PREFET_33,
    at(2024, 12, 1),
    {"year": 2025, "amounts": {"A1": {"etat": 400_000 * EUR, "collectivite": 300_000 * EUR}}},
    "co_financing_50_50",
    "amounts.A1",  # at its fiche (a user walk saw it shown at another)
)
# 2. The annual ceiling, the same for the four years.
row(
    "ceiling reached exactly",
    proposed,
    "AddAction",
    PREFET_33,
    at(2024, 1, 5),
    {"action": action("A9", Axis.ENFANCE, 100_000)},
)
row(
    "ceiling exceeded by one cent",
    proposed,
    "AddAction",
    PREFET_33,
    at(2024, 1, 5),
    {"action": action("A9", Axis.ENFANCE, 100_000, amounts=amounts(100_000, 1))},
    "annual_ceiling_exceeded",
    "action.amounts",
)
row(
    "ceiling applies to a later year too",
    proposed,
    "AddAction",
    PREFET_33,
    at(2024, 1, 5),
    {"action": action("A9", Axis.ENFANCE, 0, amounts={2026: {"etat": 100_001 * EUR, "collectivite": 100_001 * EUR}})},
    "annual_ceiling_exceeded",
    "action.amounts",
)
row(
    "renewal above the ceiling",
    reviewed,
    "Renew",
    PREFET_33,
    at(2024, 12, 1),
    {"year": 2025, "amounts": {"A1": {"etat": 500_001 * EUR, "collectivite": 500_001 * EUR}}},
    "annual_ceiling_exceeded",
    "amounts",
)
# 3. Axes: a métropole holds one action per axis when signed and renewed; a département has three axes.
row("4 axes when signed", deliberated, "SignContract", PREFET_33, at(2024, 3, 1), {"party": "etat", "signatory": "P"})
row(
    "métropole missing an axis at signature",
    bordeaux_without_emploi,
    "SignContract",
    PREFET_33,
    at(2024, 3, 1),
    {"party": "etat", "signatory": "P"},
    "axis_rule",
    "actions",
)
row(
    "métropole renewal leaving an axis unfunded",
    reviewed,
    "Renew",
    PREFET_33,
    at(2024, 12, 1),
    {"year": 2025, "amounts": {"A2": {"etat": 0, "collectivite": 0}}},
    "axis_rule",
    "amounts",
)
row(
    "département action on its axes",
    gironde_proposed,
    "AddAction",
    prefet("33"),
    at(2024, 1, 5),
    {"action": action("E1", Axis.ENFANCE, 100)},
)
row(
    "département action on EMPLOI",
    gironde_proposed,
    "AddAction",
    prefet("33"),
    at(2024, 1, 5),
    {"action": action("E1", Axis.EMPLOI, 100)},
    "axis_rule",
    "action.axis",
)
# 4. The lifecycle's order.
row(
    "deliberation before signature",
    proposed,
    "SignContract",
    PREFET_33,
    at(2024, 3, 1),
    {"party": "etat", "signatory": "P"},
    "lifecycle_violation",
    "status",
)
row(
    "one signature per party",
    lambda: _signed_once(),
    "SignContract",
    PREFET_33,
    at(2024, 3, 2),
    {"party": "etat", "signatory": "P"},
    "lifecycle_violation",
    "party",
)
row(
    "no review before signature",
    deliberated,
    "RecordCommitteeReview",
    COMMISSAIRE_75,
    at(2024, 3, 1),
    {"year": 2024, "review_date": date(2024, 2, 28), "findings": "x", "decision": "CONTINUE"},
    "lifecycle_violation",
    "status",
)
row(
    "review after signature",
    in_execution,
    "RecordCommitteeReview",
    COMMISSAIRE_75,
    at(2024, 6, 1),
    {"year": 2024, "review_date": date(2024, 5, 30), "findings": "x", "decision": "CONTINUE"},
)
row(
    "no renewal without the review of the year",
    in_execution,
    "Renew",
    PREFET_33,
    at(2024, 12, 1),
    {"year": 2025, "amounts": {"A1": SAME}},
    "lifecycle_violation",
    "year",
)
row(
    "no change of an action once deliberated",
    deliberated,
    "ChangeAction",
    BORDEAUX_COLL,
    at(2024, 2, 20),
    {"action": BORDEAUX_ACTIONS[0]},
    "lifecycle_violation",
    "status",
)
row(
    "nothing after termination",
    closed_or_terminated,
    "Resume",
    PREFET_33,
    at(2024, 6, 1),
    {"reason": "x"},
    "lifecycle_violation",
    "status",
)
row(
    "a suspended contract is resumed",
    bordeaux_suspended,
    "Resume",
    PREFET_33,
    at(2024, 7, 1),
    {"reason": "ok"},
)
# 5. Roles and scope.
row(
    "an auditor changes nothing",
    in_execution,
    "Suspend",
    AUDITOR,
    at(2024, 6, 1),
    {"reason": "x"},
    "forbidden",
    "actor.role",
)
row(
    "a collectivité does not record reviews",
    in_execution,
    "RecordCommitteeReview",
    BORDEAUX_COLL,
    at(2024, 6, 1),
    {"year": 2024, "review_date": date(2024, 5, 30), "findings": "x", "decision": "CONTINUE"},
    "forbidden",
    "actor.role",
)
row(
    "a collectivité acts only on its own SIREN",
    proposed,
    "AddAction",
    collectivite("243100518"),
    at(2024, 1, 5),
    {"action": NEW},
    "out_of_scope",
    "actor.scope",
)
row(
    "a préfet acts on its départements only",
    proposed,
    "AddAction",
    prefet("31"),
    at(2024, 1, 5),
    {"action": NEW},
    "out_of_scope",
    "actor.scope",
)
row(
    "a commissaire acts on its région only",
    in_execution,
    "RecordCommitteeReview",
    commissaire("76"),
    at(2024, 6, 1),
    {"year": 2024, "review_date": date(2024, 5, 30), "findings": "x", "decision": "CONTINUE"},
    "out_of_scope",
    "actor.scope",
)
row(
    "a préfet signs for the État only",
    deliberated,
    "SignContract",
    PREFET_33,
    at(2024, 3, 1),
    {"party": "collectivite", "signatory": "P"},
    "invalid_value",
    "party",
)
row(
    "only the system opens a year",
    in_execution,
    "OpenProgrammeYear",
    PREFET_33,
    at(2025, 1, 1),
    {"year": 2025},
    "forbidden",
    "actor.role",
)
# 6. Réfaction and the closing balance.
row(
    "État spending above the programme",
    bordeaux_in_2025,
    "SubmitExecutionReport",
    BORDEAUX_COLL,
    at(2025, 2, 1),
    {"year": 2024, "etat_spent": {"A1": 400_000 * EUR + 1}, "collectivite_spent": {}},
    "invalid_value",
    "etat_spent.A1",
)
row(
    "report before the year is over",
    reviewed,
    "SubmitExecutionReport",
    BORDEAUX_COLL,
    at(2024, 12, 1),
    {"year": 2024, "etat_spent": {}, "collectivite_spent": {}},
    "lifecycle_violation",
    "year",
)
# 7. Dates inside the programme.
row(
    "amounts for a year outside 2024–2027",
    proposed,
    "AddAction",
    PREFET_33,
    at(2024, 1, 5),
    {"action": action("A9", Axis.ENFANCE, 0, amounts={2028: {"etat": 1, "collectivite": 1}})},
    "date_out_of_programme",
    "action.amounts",
)
row(
    "back-dated command",
    proposed,
    "AddAction",
    PREFET_33,
    at(2023, 11, 30),
    {"action": NEW},
    "date_out_of_programme",
    "occurred_at",
)
row(
    "closing before the programme's end",
    in_execution,
    "BeginClosing",
    SYSTEM,
    at(2027, 12, 31),
    {},
    "date_out_of_programme",
    "occurred_at",
)


def _signed_once() -> Contract:
    c = deliberated()
    c.do("SignContract", PREFET_33, at(2024, 3, 1), party="etat", signatory="P")
    return c


@pytest.mark.parametrize(
    ("stage", "kind", "actor", "when", "fields", "code", "field"),
    [r[1:] for r in ROWS],
    ids=[r[0] for r in ROWS],
)
def test_rule(
    stage: Callable[[], Contract],
    kind: str,
    actor: Any,
    when: Any,
    fields: dict[str, Any],
    code: str | None,
    field: str | None,
) -> None:
    contract = stage()
    before = contract.state
    if code is None:
        assert contract.decide(kind, actor, when, **fields), "an accepted command records at least one event"
        return
    with pytest.raises(DomainError) as info:
        contract.decide(kind, actor, when, **fields)
    assert (info.value.code, info.value.field) == (code, field), info.value.message
    assert info.value.message.startswith(field.split(".")[0])  # the sentence names the field first
    assert contract.state == before


def test_declared_balance_must_match_to_the_cent() -> None:
    c = in_execution()
    for year in (2025, 2026, 2027):
        c.do(
            "RecordCommitteeReview",
            COMMISSAIRE_75,
            at(year - 1, 11, 1),
            year=year - 1,
            review_date=date(year - 1, 10, 30),
            findings="ok",
            decision="CONTINUE",
        )
        c.do("OpenProgrammeYear", SYSTEM, at(year, 1, 1), year=year)
    c.do("BeginClosing", SYSTEM, at(2028, 1, 1))
    for year in (2024, 2025, 2026, 2027):
        full = {k: a.amounts[year].etat for k, a in c.state.actions.items()}
        spent = {**full, "A4": full["A4"] - 1} if year == 2027 else full
        c.do(
            "SubmitExecutionReport",
            BORDEAUX_COLL,
            at(2028, 2, year - 2020),
            year=year,
            etat_spent=spent,
            collectivite_spent=full,
        )
    with pytest.raises(DomainError) as info:
        c.decide("CloseContract", PREFET_33, at(2028, 3, 1), declared_reversement=0)
    assert info.value.code == "balance_mismatch" and "0,01 €" in info.value.message
    assert c.decide("CloseContract", PREFET_33, at(2028, 3, 1), declared_reversement=1)


def test_a_repeated_request_id_yields_no_new_event() -> None:
    c = proposed()
    cmd = command("AddAction", c.contract_id, PREFET_33, at(2024, 1, 5), action=NEW)
    assert c.send(cmd)
    assert c.send(cmd) == []
    assert list(c.state.actions) == ["A1", "A2", "A3", "A4", "A9"]


def test_a_reinforced_action_says_how_and_every_action_has_indicators() -> None:
    with pytest.raises(ValidationError, match="reinforcement"):
        action("X", Axis.ENFANCE, 1, nature=Nature.REINFORCED)
    with pytest.raises(ValidationError, match="indicators"):
        action("X", Axis.ENFANCE, 1, indicators=())
    reinforced = action("X", Axis.ENFANCE, 1, nature=Nature.REINFORCED, reinforcement="new_publics")
    assert isinstance(reinforced, Action)
    assert Indicator(code="x", label="x", baseline=0, targets={}).baseline == 0


def test_negative_amounts_are_refused_before_any_decision() -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        COMMAND_ADAPTER.validate_python(
            {
                "type": "ProposeContract",
                "contract_id": "cls-243300316",
                "actor": PREFET_33,
                "request_id": "r",
                "at": at(2024, 1, 1),
                "territory_id": BORDEAUX,
                "annual_ceiling": -1,
            }
        )


def test_a_command_a_little_behind_the_last_event_is_recorded_at_its_time() -> None:
    c = proposed()  # last event at 2023-12-01 10:00
    events = c.decide("AddAction", PREFET_33, at(2023, 12, 1, 10) - timedelta(seconds=90), action=NEW)
    assert events and events[0].occurred_at == at(2023, 12, 1, 10)  # clock skew: stream time stays monotone
