"""An amendment that would change nothing is refused (found by a user walk: recorded, it then waited for two
signatures that could change nothing). The first rules recorded one; histories keep it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import ValidationRefused
from domain.values import YearAmounts
from tests.unit.builders import PREFET_33, bordeaux_in_execution, command

EUR = 100
WHEN = datetime(2024, 6, 1, 10, tzinfo=UTC)


def test_an_amendment_changing_nothing_is_refused_and_records_nothing() -> None:
    contract = bordeaux_in_execution()
    cid, before = contract.state.contract_id, len(contract.events)
    same = contract.state.actions["A1"].amounts[2024]
    with pytest.raises(ValidationRefused) as refused:
        contract.send(command("Amend", cid, PREFET_33, WHEN, amendment_id="AV1", year=2024, amounts={"A1": same},
                              reason="rien"))  # fmt: skip
    assert (refused.value.field, refused.value.rule) == ("amounts", "avenant.no_effect")
    assert len(contract.events) == before
    less = YearAmounts(etat=same.etat - 10_000 * EUR, collectivite=same.collectivite - 10_000 * EUR)
    contract.send(command("Amend", cid, PREFET_33, WHEN, amendment_id="AV1", year=2024, amounts={"A1": less},
                          reason="moins"))  # fmt: skip
    assert "AV1" in contract.state.avenants
