"""A pending avenant proposal never blocks anything for good (issue 24, defect 7): its proposer withdraws it without
replacing it (``WithdrawAvenant``), or replaces it by a new proposal — a renewal by the préfet's new renewal for the
year, an amendment by a new amendment that names it (``Amend.replaces``). A concluded avenant is neither; nobody
withdraws or replaces another's proposal. Refusals carry a rule id and a French sentence."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter

from domain.errors import DomainError
from domain.evolve import fold
from domain.policy import in_code
from domain.reprise import import_history, parse_line
from domain.state import INITIAL_STATE
from domain.territories import REFERENCE_TERRITORIES
from domain.values import Party
from pacte.web.messages import RULES
from tests.unit.builders import (
    BORDEAUX,
    BORDEAUX_ACTIONS,
    BORDEAUX_COLL,
    COMMISSAIRE_75,
    EUR,
    PREFET_33,
    Contract,
    at,
    prefet,
)
from tests.unit.test_facts_in_any_order import bordeaux, missed, run_calendar, with_renewal_half_signed

MORE = {"A1": {"etat": 450_000 * EUR, "collectivite": 450_000 * EUR}}
LESS = {"A1": {"etat": 350_000 * EUR, "collectivite": 350_000 * EUR}}


def refused(c: Contract, kind: str, actor, day: date, **fields) -> DomainError:  # type: ignore[no-untyped-def]
    before = c.state
    with pytest.raises(DomainError) as info:
        c.do(kind, actor, at(day.year, day.month, day.day), **fields)
    assert info.value.rule in RULES and c.state == before
    return info.value


def amended(proposer=BORDEAUX_COLL, amendment_id: str = "avt-1") -> Contract:  # type: ignore[no-untyped-def]
    c = bordeaux("reviewed")
    c.do("Amend", proposer, at(2024, 11, 25), amendment_id=amendment_id, year=2024, amounts=MORE, reason="r")
    return c


def test_the_prefet_withdraws_a_pending_renewal_and_may_propose_another_later() -> None:
    c = with_renewal_half_signed()  # proposed on 1 December, signed by the État on the 10th
    events = c.do("WithdrawAvenant", PREFET_33, at(2024, 12, 11), avenant_id="renewal-2025", reason="erreur")
    assert [e.type for e in events] == ["AvenantWithdrawn"]
    assert "renewal-2025" not in c.state.avenants and c.state.withdrawn_avenants == ("renewal-2025",)
    c.do("Renew", PREFET_33, at(2024, 12, 12), year=2025, amounts=MORE)
    c.do("SignAvenant", PREFET_33, at(2024, 12, 13), avenant_id="renewal-2025", party="etat", signatory="P")
    c.do("SignAvenant", BORDEAUX_COLL, at(2024, 12, 14), avenant_id="renewal-2025", party="collectivite", signatory="C")
    assert c.state.year(2025).renewed and fold(c.events) == c.state


def test_a_renewal_withdrawn_and_not_replaced_is_missed_at_its_deadline() -> None:
    c = with_renewal_half_signed()
    c.do("WithdrawAvenant", PREFET_33, at(2024, 12, 11), avenant_id="renewal-2025", reason="erreur")
    run_calendar(c, at(2025, 1, 2))
    assert ("renewal", 2025) in missed(c)


def test_the_collectivite_withdraws_its_own_amendment_and_its_id_stays_used() -> None:
    c = amended()
    c.do("SignAvenant", BORDEAUX_COLL, at(2024, 11, 26), avenant_id="avt-1", party="collectivite", signatory="C")
    c.do("WithdrawAvenant", BORDEAUX_COLL, at(2024, 11, 27), avenant_id="avt-1", reason="on renonce")
    assert "avt-1" not in c.state.avenants
    error = refused(c, "SignAvenant", PREFET_33, date(2024, 11, 28), avenant_id="avt-1", party="etat", signatory="P")
    assert error.rule == "avenant.unknown"
    error = refused(
        c, "Amend", BORDEAUX_COLL, date(2024, 11, 28), amendment_id="avt-1", year=2024, amounts=MORE, reason="r"
    )
    assert (error.field, error.rule) == ("amendment_id", "avenant.id_used")


def test_nobody_withdraws_anothers_proposal_nor_a_concluded_one() -> None:
    c = amended()
    error = refused(c, "WithdrawAvenant", PREFET_33, date(2024, 11, 27), avenant_id="avt-1", reason="non")
    assert (error.field, error.rule) == ("avenant_id", "avenant.not_proposer")
    assert error.params == {"avenant": "avt-1", "party": Party.COLLECTIVITE.value}
    error = refused(c, "WithdrawAvenant", BORDEAUX_COLL, date(2024, 11, 27), avenant_id="avt-9", reason="non")
    assert error.rule == "avenant.unknown"
    c.do("SignAvenant", BORDEAUX_COLL, at(2024, 11, 26), avenant_id="avt-1", party="collectivite", signatory="C")
    c.do("SignAvenant", PREFET_33, at(2024, 11, 27), avenant_id="avt-1", party="etat", signatory="P")
    error = refused(c, "WithdrawAvenant", BORDEAUX_COLL, date(2024, 11, 28), avenant_id="avt-1", reason="non")
    assert error.rule == "avenant.concluded"


def test_a_national_scope_prefet_does_not_withdraw_for_the_etat() -> None:
    c = with_renewal_half_signed()
    error = refused(c, "WithdrawAvenant", prefet("*"), date(2024, 12, 11), avenant_id="renewal-2025", reason="x")
    assert error.rule == "signature.not_the_prefet"


def test_an_amendment_is_replaced_by_its_proposers_new_one() -> None:
    c = amended()
    c.do("SignAvenant", BORDEAUX_COLL, at(2024, 11, 26), avenant_id="avt-1", party="collectivite", signatory="C")
    events = c.do(
        "Amend", BORDEAUX_COLL, at(2024, 11, 27), amendment_id="avt-2", year=2024, amounts=LESS, reason="r",
        replaces="avt-1",
    )  # fmt: skip
    assert [e.type for e in events] == ["AvenantWithdrawn", "AvenantProposed"]
    assert set(c.state.avenants) == {"avt-2"} and c.state.avenants["avt-2"].signatures == ()
    assert fold(c.events) == c.state


@pytest.mark.parametrize(
    ("replaces", "by", "rule"),
    [("avt-1", PREFET_33, "avenant.not_proposer"), ("avt-9", BORDEAUX_COLL, "avenant.unknown")],
)
def test_an_amendment_replaces_only_its_proposers_pending_one(replaces: str, by, rule: str) -> None:  # type: ignore[no-untyped-def]
    c = amended()
    error = refused(
        c, "Amend", by, date(2024, 11, 27), amendment_id="avt-2", year=2024, amounts=LESS, reason="r",
        replaces=replaces,
    )  # fmt: skip
    assert (error.field, error.rule) == ("replaces", rule)


def test_an_amendment_does_not_replace_a_renewal() -> None:
    c = with_renewal_half_signed()
    error = refused(
        c, "Amend", PREFET_33, date(2024, 12, 11), amendment_id="avt-2", year=2024, amounts=LESS, reason="r",
        replaces="renewal-2025",
    )  # fmt: skip
    assert (error.field, error.rule) == ("replaces", "avenant.renewal_replaced_by_renewal")


def test_a_renewal_overtaken_by_a_concluded_amendment_is_withdrawn_or_replaced() -> None:
    """The renewal for 2025 was proposed with A1 at 400 000 €; an amendment concluded since removed A4's money from
    2025: the renewal can no longer be concluded as proposed, and its préfet withdraws it (or proposes another)."""
    c = with_renewal_half_signed()
    c.do("Amend", PREFET_33, at(2024, 12, 11), amendment_id="avt-1", year=2024, amounts=MORE, reason="r")
    c.do("SignAvenant", PREFET_33, at(2024, 12, 12), avenant_id="avt-1", party="etat", signatory="P")
    c.do("SignAvenant", BORDEAUX_COLL, at(2024, 12, 12), avenant_id="avt-1", party="collectivite", signatory="C")
    c.do("WithdrawAvenant", PREFET_33, at(2024, 12, 13), avenant_id="renewal-2025", reason="dépassé")
    assert "renewal-2025" not in c.state.avenants
    c.do("Renew", PREFET_33, at(2024, 12, 14), year=2025, amounts=LESS)
    assert c.state.avenants["renewal-2025"].signatures == ()


def test_an_import_takes_a_withdrawal_and_a_replacement_like_any_other_line() -> None:
    """The file's lines are the commands: a renewal proposed, withdrawn by the préfet, proposed again; an amendment of
    the collectivité replaced by its own new one. It folds to the state the same commands typed give."""
    steps: list[tuple[str, Any, date, dict[str, Any]]] = [
        ("ProposeContract", PREFET_33, date(2023, 12, 1),
         {"territory_id": BORDEAUX, "annual_ceiling": 1_500_000 * EUR, "draft_actions": BORDEAUX_ACTIONS}),
        ("RecordDeliberation", BORDEAUX_COLL, date(2024, 2, 15),
         {"deliberation": {"body": "assemblee", "voted_on": date(2024, 2, 14), "reference": "DEL-2024-12"}}),
        ("SignContract", PREFET_33, date(2024, 3, 1), {"party": "etat", "signatory": "Préfet"}),
        ("SignContract", BORDEAUX_COLL, date(2024, 3, 5), {"party": "collectivite", "signatory": "Président"}),
        ("RecordCommitteeReview", COMMISSAIRE_75, date(2024, 11, 20),
         {"year": 2024, "review_date": date(2024, 11, 18), "findings": "f", "decision": "CONTINUE"}),
        ("Renew", PREFET_33, date(2024, 12, 1), {"year": 2025, "amounts": MORE}),
        ("SignAvenant", PREFET_33, date(2024, 12, 2), {"avenant_id": "renewal-2025", "party": "etat", "signatory": "P"}),
        ("Amend", BORDEAUX_COLL, date(2024, 12, 3),
         {"amendment_id": "avt-1", "year": 2024, "amounts": LESS, "reason": "r"}),
        ("WithdrawAvenant", PREFET_33, date(2024, 12, 11), {"avenant_id": "renewal-2025", "reason": "erreur"}),
        ("Renew", PREFET_33, date(2024, 12, 12), {"year": 2025, "amounts": LESS}),
        ("Amend", BORDEAUX_COLL, date(2024, 12, 13),
         {"amendment_id": "avt-2", "year": 2024, "amounts": MORE, "reason": "r", "replaces": "avt-1"}),
    ]  # fmt: skip
    typed = Contract("cls-243300316")
    raws = []
    for kind, actor, day, fields in steps:
        typed.do(kind, actor, at(day.year, day.month, day.day), **fields)
        raws.append(
            {"type": kind, "contract_id": typed.contract_id, "occurred_at": day.isoformat(), "source": "dossier",
             "actor": actor.model_dump(mode="json"), **TypeAdapter(dict[str, Any]).dump_python(fields, mode="json")}
        )  # fmt: skip
    now = datetime(2024, 12, 14, 12, tzinfo=UTC)
    lines = [parse_line(raw, n, PREFET_33, now, REFERENCE_TERRITORIES[BORDEAUX]) for n, raw in enumerate(raws, 1)]
    _, imported = import_history(lines, INITIAL_STATE, in_code(), now)
    assert set(imported.avenants) == {"renewal-2025", "avt-2"}
    assert imported.withdrawn_avenants == ("renewal-2025", "avt-1") == typed.state.withdrawn_avenants
    assert imported.avenants == typed.state.avenants


def test_a_renewal_replaced_by_the_prefets_new_one_is_withdrawn_in_the_record() -> None:
    """The replaced proposal's end is a fact of its own, as for an amendment: its signatures no longer count, and an
    auditor reads why."""
    c = with_renewal_half_signed()
    events = c.do("Renew", PREFET_33, at(2024, 12, 12), year=2025, amounts=MORE)
    assert [e.type for e in events] == ["AvenantWithdrawn", "AvenantProposed"]
    assert events[0].avenant_id == "renewal-2025"  # type: ignore[union-attr]
    assert c.state.withdrawn_avenants == ("renewal-2025",) and c.state.avenants["renewal-2025"].signatures == ()
    assert fold(c.events) == c.state
