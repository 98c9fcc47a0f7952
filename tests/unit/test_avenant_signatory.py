"""An avenant signature names its signatory, as a contract signature does (issue 22, item 2): recorded in the fact
(AvenantSigned schema 2), shown in the state, required from every request, and facts of schema 1 still read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from domain.events import AvenantSigned
from domain.upcasting import parse_event
from domain.values import Party, YearAmounts
from pacte.service.catalogue import command_body_models
from tests.unit.builders import BORDEAUX_COLL, PREFET_33, bordeaux_in_execution, command

EUR = 100
WHEN = datetime(2024, 12, 1, 10, tzinfo=UTC)


def renewed() -> tuple[object, str]:
    contract = bordeaux_in_execution("reviewed")
    cid = contract.state.contract_id
    amounts = {a: YearAmounts(etat=e * EUR, collectivite=e * EUR) for a, e in (("A1", 400_000), ("A2", 300_000))}
    amounts |= {a: YearAmounts(etat=e * EUR, collectivite=e * EUR) for a, e in (("A3", 500_000), ("A4", 200_000))}
    contract.send(command("Renew", cid, PREFET_33, WHEN, year=2025, amounts=amounts))
    return contract, cid


def test_each_party_signature_records_who_signed() -> None:
    contract, cid = renewed()
    contract.send(command("SignAvenant", cid, PREFET_33, WHEN, avenant_id="renewal-2025", party="etat",
                          signatory="Le préfet de la Gironde"))  # fmt: skip
    signed = [e for e in contract.events if isinstance(e, AvenantSigned)]
    assert [(e.party, e.signatory, e.schema_version) for e in signed] == [(Party.ETAT, "Le préfet de la Gironde", 2)]
    contract.send(command("SignAvenant", cid, BORDEAUX_COLL, WHEN, avenant_id="renewal-2025", party="collectivite",
                          signatory="Le président"))  # fmt: skip
    avenant = contract.state.avenants["renewal-2025"]
    assert avenant.concluded
    assert avenant.signatories == {Party.ETAT: "Le préfet de la Gironde", Party.COLLECTIVITE: "Le président"}


def test_a_signature_recorded_before_the_signatory_was_asked_still_reads_with_an_unknown_signatory() -> None:
    contract, _ = renewed()
    contract.send(command("SignAvenant", contract.state.contract_id, PREFET_33, WHEN, avenant_id="renewal-2025",
                          party="etat", signatory="X"))  # fmt: skip
    stored = contract.events[-1].model_dump(mode="json")
    stored.pop("signatory")
    stored["schema_version"] = 1  # as every AvenantSigned was stored before
    event = parse_event(stored)
    assert isinstance(event, AvenantSigned)
    assert (event.signatory, event.schema_version) == ("", 2)


def test_a_request_to_sign_an_avenant_must_name_its_signatory() -> None:
    body = command_body_models()["SignAvenant"]
    with pytest.raises(ValidationError) as refused:
        body.model_validate({"party": "etat"})
    assert [(e["loc"], e["type"]) for e in refused.value.errors()] == [(("signatory",), "missing")]
    with pytest.raises(ValidationError) as empty:
        body.model_validate({"party": "etat", "signatory": ""})
    assert [e["loc"] for e in empty.value.errors()] == [("signatory",)]
    assert body.model_validate({"party": "etat", "signatory": "Le préfet"}).model_dump()["signatory"] == "Le préfet"


def test_a_schema_1_fact_decided_again_keeps_exactly_its_stored_form() -> None:
    """What the workflow decides when replaying a history of before (workflows.contract AVENANT_SIGNATORY_PATCH): the
    stored digests compare payloads exactly, so the legacy form has no signatory key at all."""
    contract, cid = renewed()
    contract.send(command("SignAvenant", cid, PREFET_33, WHEN, avenant_id="renewal-2025", party="etat"))
    legacy = contract.events[-1].model_copy(update={"schema_version": 1}).model_dump(mode="json")
    assert "signatory" not in legacy and legacy["schema_version"] == 1
    assert parse_event(legacy) == contract.events[-1].model_copy(update={"schema_version": 2})
