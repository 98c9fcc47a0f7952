"""Every role × every command: only the roles of DOMAIN.md §5 may send each command; an auditor changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from domain.actors import SYSTEM_ACTOR, Actor, Role
from domain.authorization import ALLOWED_ROLES
from domain.axes import Axis
from domain.commands import COMMAND_TYPES
from domain.errors import Forbidden
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
    at,
    bordeaux_in_2025,
    bordeaux_in_execution,
    bordeaux_suspended,
)

ACTORS: dict[Role, Actor] = {
    Role.PREFET: PREFET_33,
    Role.COLLECTIVITE: BORDEAUX_COLL,
    Role.COMMISSAIRE: COMMISSAIRE_75,
    Role.AUDITOR: AUDITOR,
    Role.SYSTEM: SYSTEM,
    Role.ADMIN: Actor(role=Role.ADMIN, identity="administration-gironde", scope=("33",)),  # runs Pacte: no act
}
SAME = {"etat": 400_000 * EUR, "collectivite": 400_000 * EUR}
LESS = {"etat": 390_000 * EUR, "collectivite": 390_000 * EUR}  # an amendment changes something


def party(role: Role) -> str:
    return "etat" if role is Role.PREFET else "collectivite"


def with_renewal() -> Contract:
    c = bordeaux_in_execution("reviewed")
    c.do("Renew", PREFET_33, at(2024, 12, 1), year=2025, amounts={"A1": SAME})
    return c


def with_two_proposals() -> Contract:
    """A renewal proposed by the préfet and an amendment by the collectivité, neither concluded."""
    c = with_renewal()
    c.do("Amend", BORDEAUX_COLL, at(2024, 12, 1), amendment_id="AV1", year=2024, amounts={"A1": LESS}, reason="r")
    return c


def reported_2024() -> Contract:
    c = bordeaux_in_2025()
    c.do(
        "SubmitExecutionReport",
        BORDEAUX_COLL,
        at(2025, 2, 1),
        year=2024,
        etat_spent={"A1": 1},
        collectivite_spent={"A1": 1},
    )
    return c


def closing_ready() -> Contract:
    c = bordeaux_in_execution()
    for year in (2025, 2026, 2027):
        c.do("OpenProgrammeYear", SYSTEM, at(year, 1, 1), year=year)
    c.do("BeginClosing", SYSTEM, at(2028, 1, 1))
    for year in (2024, 2025, 2026, 2027):
        full = {k: a.amounts[year].etat for k, a in c.state.actions.items()}
        c.do(
            "SubmitExecutionReport", BORDEAUX_COLL, at(2028, 2, 1), year=year, etat_spent=full, collectivite_spent=full
        )
    return c


def with_envelope() -> Contract:
    c = bordeaux_in_execution()
    c.do(
        "RecordEnvelope",
        PREFET_33,
        at(2024, 4, 2),
        year=2024,
        movement="notification",
        amount=1_400_000 * EUR,
        reference="Notification",
    )
    return c


def with_commitment() -> Contract:
    c = with_envelope()
    c.do("RecordCommitment", PREFET_33, at(2024, 4, 3), year=2024, ej_number="2103456789", amount=1_000 * EUR)
    return c


def with_titre() -> Contract:
    """Closing, 2027 paid 1 000 € of advance and reported spent 0 €: 1 000 € is owed back by titre de perception."""
    c = bordeaux_in_execution()
    for year in (2025, 2026, 2027):
        c.do("OpenProgrammeYear", SYSTEM, at(year, 1, 1), year=year)
    c.do(
        "RecordEnvelope",
        PREFET_33,
        at(2027, 2, 1),
        year=2027,
        movement="notification",
        amount=1_000 * EUR,
        reference="N",
    )
    c.do("RecordCommitment", PREFET_33, at(2027, 2, 2), year=2027, ej_number="2103456789", amount=1_000 * EUR)
    c.do(
        "RecordPayment",
        PREFET_33,
        at(2027, 2, 3),
        ej_number="2103456789",
        instalment="avance",
        amount=1_000 * EUR,
        document="DP1",
    )
    c.do("BeginClosing", SYSTEM, at(2028, 1, 1))
    zero = {k: 0 for k in c.state.actions}
    c.do("SubmitExecutionReport", BORDEAUX_COLL, at(2028, 2, 1), year=2027, etat_spent=zero, collectivite_spent=zero)
    return c


def with_titre_issued() -> Contract:
    c = with_titre()
    c.do("IssueRecoveryOrder", PREFET_33, at(2028, 2, 2), year=2027, titre_number="T1", amount=1_000 * EUR)
    return c


Scenario = tuple[Callable[[], Contract], Any, Callable[[Role], dict[str, Any]]]
REVIEW = {"year": 2024, "review_date": date(2024, 5, 30), "findings": "x", "decision": "CONTINUE"}

SCENARIOS: dict[str, Scenario] = {
    "ProposeContract": (
        lambda: Contract("cls-243300316"),
        at(2023, 12, 1),
        lambda r: {"territory_id": BORDEAUX, "annual_ceiling": 1_500_000 * EUR},
    ),
    "AddAction": (
        lambda: bordeaux_in_execution("proposed"),
        at(2024, 1, 2),
        lambda r: {"action": action("A9", Axis.ENFANCE, 1)},
    ),
    "ChangeAction": (
        lambda: bordeaux_in_execution("proposed"),
        at(2024, 1, 2),
        lambda r: {"action": BORDEAUX_ACTIONS[0].model_copy(update={"title": "Nouveau titre"})},
    ),
    "RemoveAction": (lambda: bordeaux_in_execution("proposed"), at(2024, 1, 2), lambda r: {"action_id": "A4"}),
    "RecordDeliberation": (
        lambda: bordeaux_in_execution("proposed"),
        at(2024, 2, 1),
        lambda r: {"deliberation": {"body": "assemblee", "voted_on": date(2024, 1, 30), "reference": "D"}},
    ),
    "SignContract": (
        lambda: bordeaux_in_execution("deliberated"),
        at(2024, 3, 1),
        lambda r: {"party": party(r), "signatory": "X"},
    ),
    "RecordCommitteeReview": (bordeaux_in_execution, at(2024, 6, 1), lambda r: REVIEW),
    "Renew": (
        lambda: bordeaux_in_execution("reviewed"),
        at(2024, 12, 1),
        lambda r: {"year": 2025, "amounts": {"A1": SAME}},
    ),
    "Amend": (
        bordeaux_in_execution,
        at(2024, 6, 1),
        lambda r: {"amendment_id": "AV1", "year": 2024, "amounts": {"A1": LESS}, "reason": "r"},
    ),
    "SignAvenant": (with_renewal, at(2024, 12, 2), lambda r: {"avenant_id": "renewal-2025", "party": party(r)}),
    "WithdrawAvenant": (
        with_two_proposals,
        at(2024, 12, 2),
        lambda r: {"avenant_id": "renewal-2025" if r is Role.PREFET else "AV1", "reason": "r"},
    ),
    "SubmitExecutionReport": (
        bordeaux_in_2025,
        at(2025, 2, 1),
        lambda r: {"year": 2024, "etat_spent": {"A1": 1}, "collectivite_spent": {"A1": 1}},
    ),
    "RecordMidTermEvaluation": (
        bordeaux_in_execution,
        at(2026, 3, 1),
        lambda r: {"evaluations": {a.action_id: "ok" for a in BORDEAUX_ACTIONS}},
    ),
    "Suspend": (bordeaux_in_execution, at(2024, 6, 1), lambda r: {"reason": "r"}),
    "Resume": (bordeaux_suspended, at(2024, 7, 1), lambda r: {"reason": "r"}),
    "Terminate": (bordeaux_in_execution, at(2024, 6, 1), lambda r: {"reason": "r"}),
    "BeginClosing": (bordeaux_in_execution, at(2028, 1, 1), lambda r: {}),
    "CloseContract": (closing_ready, at(2028, 3, 1), lambda r: {}),
    "OpenProgrammeYear": (bordeaux_in_execution, at(2025, 1, 1), lambda r: {"year": 2025}),
    "RecordMissedDeadline": (
        bordeaux_in_execution,
        at(2025, 1, 2),
        lambda r: {"deadline": "committee_review", "year": 2024, "due": date(2024, 12, 31)},
    ),
    "RectifyExecutionReport": (
        reported_2024,
        at(2025, 2, 10),
        lambda r: {"year": 2024, "etat_spent": {"A1": 2}, "collectivite_spent": {"A1": 2}, "reason": "coquille"},
    ),
    "RectifySignature": (
        bordeaux_in_execution,
        at(2024, 4, 1),
        lambda r: {"party": party(r), "signed_on": date(2024, 2, 28), "reason": "date de la convention"},
    ),
    "RecordEnvelope": (
        bordeaux_in_execution,
        at(2024, 4, 2),
        lambda r: {"year": 2024, "movement": "notification", "amount": 1_000 * EUR, "reference": "Notification"},
    ),
    "RecordCommitment": (
        with_envelope,
        at(2024, 4, 3),
        lambda r: {"year": 2024, "ej_number": "2103456789", "amount": 1_000 * EUR},
    ),
    "RecordPayment": (
        with_commitment,
        at(2024, 4, 4),
        lambda r: {"ej_number": "2103456789", "instalment": "avance", "amount": 500 * EUR, "document": "DP1"},
    ),
    "IssueRecoveryOrder": (
        with_titre,
        at(2028, 2, 2),
        lambda r: {"year": 2027, "titre_number": "T1", "amount": 1_000 * EUR},
    ),
    "RecordRecoveryCollected": (
        with_titre_issued,
        at(2028, 2, 3),
        lambda r: {"titre_number": "T1", "amount": 400 * EUR},
    ),
}


def test_every_command_has_a_scenario_and_a_role_table() -> None:
    assert set(SCENARIOS) == set(COMMAND_TYPES) == set(ALLOWED_ROLES)


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
@pytest.mark.parametrize("kind", COMMAND_TYPES)
def test_role_walk(kind: str, role: Role) -> None:
    stage, when, fields = SCENARIOS[kind]
    contract = stage()
    before = contract.state
    if role in ALLOWED_ROLES[kind]:
        events = contract.decide(kind, ACTORS[role], when, **fields(role))
        assert events, f"{role.value} may {kind}"
        # Every event records who did it: the command's own, its actor; the calendar's facts due by its date that
        # it brought in first (issue 24), the system.
        assert all(e.actor == (SYSTEM_ACTOR if e.request_id.startswith("system:") else ACTORS[role]) for e in events)
        assert any(e.actor == ACTORS[role] for e in events)
    else:
        with pytest.raises(Forbidden) as info:
            contract.decide(kind, ACTORS[role], when, **fields(role))
        assert info.value.field == "actor.role"
        assert contract.state == before


def test_auditors_may_do_nothing_at_all() -> None:
    assert all(Role.AUDITOR not in roles for roles in ALLOWED_ROLES.values())
