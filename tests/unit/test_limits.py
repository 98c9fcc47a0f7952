"""Every accepted value is storable, and a contract at its caps stays well inside Temporal's payload limits."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from activities.contracts import AppendRequest
from domain.axes import Axis
from domain.commands import COMMAND_ADAPTER
from domain.errors import DomainError
from domain.limits import (
    MAX_ACTIONS,
    MAX_AVENANT_ACTIONS,
    MAX_AVENANTS,
    MAX_CENTS,
    MAX_COUNT,
    MAX_INDICATORS,
    MAX_REVIEWS_PER_YEAR,
)
from domain.values import Action, Indicator
from eventstore.records import new_event_from
from tests.sealing import CONVERTER
from tests.unit.builders import (
    BORDEAUX,
    BORDEAUX_COLL,
    COMMISSAIRE_75,
    PREFET_33,
    SYSTEM,
    Contract,
    amounts,
    at,
    command,
)
from workflows.contract import update_answer

TEMPORAL_PAYLOAD_LIMIT = 2 * 1024 * 1024  # Temporal refuses a payload over 2 MB (and warns from 512 kB)
TEMPORAL_PAYLOAD_WARNING = 512 * 1024


@pytest.mark.parametrize(
    ("kind", "fields", "where"),
    [
        ("Suspend", {"reason": "a\x00b"}, "reason"),
        ("Suspend", {"reason": "a\ud800b"}, "reason"),  # a lone surrogate: UTF-8 cannot encode it
        ("Terminate", {"reason": "ok", "source": "réf.\x00"}, "source"),
        ("RecordMidTermEvaluation", {"evaluations": {"A1": "\x00"}}, "evaluations"),
        ("CloseContract", {"declared_reversement": MAX_CENTS + 1}, "declared_reversement"),
        (
            "RecordCommitteeReview",
            {
                "year": 2024,
                "review_date": date(2024, 6, 1),
                "findings": "f",
                "decision": "CONTINUE",
                "indicator_values": {"A1": {"x": MAX_COUNT + 1}},
            },
            "indicator_values",
        ),
        (
            "SubmitExecutionReport",
            {"year": 2024, "etat_spent": {f"A{i}": 1 for i in range(MAX_ACTIONS + 1)}, "collectivite_spent": {}},
            "etat_spent",
        ),
    ],
)
def test_an_unstorable_or_unbounded_value_is_refused_naming_its_field(
    kind: str, fields: dict[str, Any], where: str
) -> None:
    with pytest.raises(ValidationError) as info:
        command(kind, "cls-243300316", PREFET_33, at(2024, 6, 1), **fields)
    assert any(where in ".".join(map(str, e["loc"])) for e in info.value.errors()), info.value.errors()


def test_an_actor_naming_itself_with_a_nul_is_refused() -> None:
    with pytest.raises(ValidationError):
        COMMAND_ADAPTER.validate_python(
            {
                "type": "Suspend",
                "contract_id": "cls-d33",
                "actor": {"role": "prefet", "identity": "x\x00", "scope": ["33"]},
                "request_id": "r",
                "at": at(2024, 1, 1),
                "reason": "r",
            }
        )


def long_action(n: int, axis: Axis) -> Action:
    text = "é" * 300
    return Action(
        action_id=f"A{n}",
        axis=axis,
        objective=text,
        title=text,
        nature="new",
        public=text,
        zone=text,
        indicators=tuple(
            Indicator(
                code=f"indicateur_{i}",
                label=text,
                baseline=MAX_COUNT,
                targets=dict.fromkeys(range(2024, 2028), MAX_COUNT),
            )
            for i in range(MAX_INDICATORS)
        ),
        amounts=amounts(1_000),
    )


def drive_to_caps(c: Contract) -> None:
    """Every cap of a contract reached, step by step: fiches actions, reviews, avenants, long texts."""
    axes = list(Axis)
    actions = tuple(long_action(n, axes[n % 4]) for n in range(MAX_ACTIONS))
    c.do(
        "ProposeContract",
        PREFET_33,
        at(2023, 12, 1),
        territory_id=BORDEAUX,
        annual_ceiling=MAX_CENTS,
        draft_actions=actions,
    )
    with pytest.raises(DomainError):  # one more fiche action is refused
        c.decide("AddAction", PREFET_33, at(2024, 1, 2), action=long_action(MAX_ACTIONS, Axis.ENFANCE))
    c.do(
        "RecordDeliberation",
        BORDEAUX_COLL,
        at(2024, 2, 15),
        deliberation={"body": "assemblee", "voted_on": date(2024, 2, 14), "reference": "é" * 300},
    )
    c.do("SignContract", PREFET_33, at(2024, 3, 1), party="etat", signatory="é" * 300)
    c.do("SignContract", BORDEAUX_COLL, at(2024, 3, 5), party="collectivite", signatory="é" * 300)
    values = {a.action_id: {i.code: MAX_COUNT for i in a.indicators} for a in actions}
    spending = {a.action_id: 1 for a in actions}
    for n in range(MAX_REVIEWS_PER_YEAR):
        c.do(
            "RecordCommitteeReview",
            COMMISSAIRE_75,
            at(2024, 6, 1 + n),
            year=2024,
            review_date=date(2024, 6, 1 + n),
            findings="é" * 2000,
            decision="CONTINUE",
            indicator_values=values,
            spending=spending,
        )
    full = {a.action_id: a.amounts[2024] for a in actions}
    changed = tuple(a.model_copy(update={"title": "è" * 300}) for a in actions[:MAX_AVENANT_ACTIONS])
    for n in range(MAX_AVENANTS):
        c.do(
            "Amend",
            PREFET_33,
            at(2024, 7, 1),
            amendment_id=f"AV{n}",
            year=2024,
            amounts=full,
            terms={"changed_actions": changed},
            reason="é" * 2000,
        )
    with pytest.raises(DomainError):  # one more avenant is refused
        c.decide("Amend", PREFET_33, at(2024, 7, 2), amendment_id="AVX", year=2024, amounts=full, reason="r")
    c.do("OpenProgrammeYear", SYSTEM, at(2025, 1, 1), year=2025)  # a calendar fact: the state keeps its rewind


def test_a_contract_at_its_caps_stays_well_inside_temporal_payload_limits() -> None:
    c = Contract("cls-243300316")
    drive_to_caps(c)
    assert c.state.rewind is not None
    size = len(c.state.model_dump_json().encode())
    assert size < TEMPORAL_PAYLOAD_LIMIT * 0.75, f"{size} bytes"


class Measured(Contract):
    """The contract as the workflow drives it, measuring at each step the payloads Temporal carries and keeps: the
    append activity's input and the update's answer, as the pydantic data converter encodes them."""

    def __init__(self, contract_id: str) -> None:
        super().__init__(contract_id)
        self.payloads: list[tuple[str, str, int]] = []  # (command, what, bytes)

    def do(self, kind: str, actor: Any, when: Any, **fields: Any) -> list[Any]:
        version = self.state.version
        events = super().do(kind, actor, when, **fields)
        stored = [
            new_event_from(self.contract_id, version + i, e, workflow_id=self.contract_id)
            for i, e in enumerate(events, 1)
        ]
        append = AppendRequest(stream_id=self.contract_id, expected_version=version, events=stored)
        for what, value in (("append input", append), ("update answer", update_answer(self.state, events))):
            # Measured as Temporal holds it: sealed by Pacte's codec (a nonce, a tag and the key's name more).
            self.payloads.append((kind, what, asyncio.run(CONVERTER.encode([value]))[0].ByteSize()))
        return events


def test_every_payload_of_a_contract_at_its_caps_stays_under_temporals_warning() -> None:
    """Not only the state: at every step to the caps, what an update answers (kept in the history, step after step)
    and what the append sends stay under the 512 KiB at which Temporal warns. The answers used to carry the whole
    state: ~1.2 MB at the caps, 24.9 MB of answers over these steps."""
    c = Measured("cls-243300316")
    drive_to_caps(c)
    assert len(c.payloads) >= 2 * 30
    over = [(kind, what, size) for kind, what, size in c.payloads if size >= TEMPORAL_PAYLOAD_WARNING]
    assert over == []
    # The events themselves (long fiches actions, avenants) are what is left: a twentieth of the 24.9 MB of before.
    answers = sum(size for _, what, size in c.payloads if what == "update answer")
    assert answers < TEMPORAL_PAYLOAD_LIMIT, f"{answers} bytes of answers in the history"
