"""An avenant shown as what it changes (issue 22, item 2): per fiche and year the current and proposed État and
collectivité amounts and their difference, the new ceiling, the fiches added, changed and removed, and the ceiling
left each year — computed from the avenant's own effect (``avenant_effect``, what evolve applies at conclusion)."""

from __future__ import annotations

from datetime import date

from domain.avenants import AvenantChanges, avenant_changes
from domain.axes import Axis
from domain.values import Avenant, AvenantKind, AvenantTerms, YearAmounts
from tests.unit.builders import BORDEAUX_ACTIONS, action

EUR = 100
ACTIONS = {a.action_id: a for a in BORDEAUX_ACTIONS}  # 400 000 + 300 000 + 500 000 + 200 000 € a year
CEILING = 1_500_000 * EUR


def amounts(euros: int) -> YearAmounts:
    return YearAmounts(etat=euros * EUR, collectivite=euros * EUR)


def test_a_renewal_shows_each_fiches_amounts_before_after_and_the_difference() -> None:
    renewal = Avenant(
        avenant_id="REN-2027",
        kind=AvenantKind.RENEWAL,
        year=2027,
        reason="renouvellement 2027",
        amounts={"A1": amounts(450_000), "A2": amounts(300_000)},
    )
    changes = avenant_changes(ACTIONS, CEILING, renewal)
    rows = {(r.action_id, r.year): r for r in changes.amounts}
    assert set(rows) == {("A1", 2027)}  # A2 is renewed unchanged: not a change
    a1 = rows[("A1", 2027)]
    assert (a1.etat_before, a1.etat_after, a1.etat_delta) == (400_000 * EUR, 450_000 * EUR, 50_000 * EUR)
    assert (a1.collectivite_before, a1.collectivite_after, a1.collectivite_delta) == (
        400_000 * EUR,
        450_000 * EUR,
        50_000 * EUR,
    )
    assert a1.title == "Fiche A1"
    assert changes.ceiling_before == changes.ceiling_after == CEILING and not changes.ceiling_changed
    assert changes.ceiling_left[2027] == CEILING - 1_450_000 * EUR
    assert changes.ceiling_left[2026] == CEILING - 1_400_000 * EUR
    assert (changes.added, changes.changed, changes.removed) == ((), (), ())


def test_an_amendment_shows_the_ceiling_and_the_fiches_added_changed_removed() -> None:
    a5 = action("A5", Axis.ENFANCE, 100_000)
    a2 = ACTIONS["A2"].model_copy(update={"title": "Emploi renforcé"})
    amendment = Avenant(
        avenant_id="AV-2026-1",
        kind=AvenantKind.AMENDMENT,
        year=2026,
        reason="ajustement",
        amounts={"A3": amounts(450_000)},
        terms=AvenantTerms(
            annual_ceiling=1_600_000 * EUR, added_actions=(a5,), changed_actions=(a2,), removed_actions=("A4",)
        ),
    )
    changes = avenant_changes(ACTIONS, CEILING, amendment)
    assert changes.ceiling_changed and changes.ceiling_after == 1_600_000 * EUR
    assert (changes.added, changes.changed, changes.removed) == (("A5",), ("A2",), ("A4",))
    rows = {(r.action_id, r.year): r for r in changes.amounts}
    assert rows[("A5", 2026)].etat_before == 0 and rows[("A5", 2026)].etat_after == 100_000 * EUR
    assert rows[("A4", 2027)].etat_after == 0 and rows[("A4", 2027)].etat_delta == -200_000 * EUR
    assert rows[("A3", 2026)].etat_delta == -50_000 * EUR
    assert ("A2", 2026) not in rows  # its text changed, not its money
    # 2026: 400 000 (A1) + 300 000 (A2) + 450 000 (A3) + 100 000 (A5), under the new ceiling.
    assert changes.ceiling_left[2026] == (1_600_000 - 1_250_000) * EUR


def test_an_avenant_that_would_exceed_the_ceiling_shows_a_negative_room() -> None:
    renewal = Avenant(
        avenant_id="REN", kind=AvenantKind.RENEWAL, year=2027, reason="r", amounts={"A3": amounts(700_000)}
    )
    assert avenant_changes(ACTIONS, CEILING, renewal).ceiling_left[2027] == -100_000 * EUR


def test_a_concluded_avenant_keeps_showing_what_it_changed() -> None:
    # Once concluded its amounts are the contract's: compared with the contract after, it would change nothing.
    from datetime import UTC, datetime

    from domain.avenant_history import avenants_changes
    from domain.values import Party
    from tests.unit.builders import BORDEAUX_COLL, PREFET_33, bordeaux_in_execution, command

    contract = bordeaux_in_execution("reviewed")
    when = datetime(2024, 12, 1, 10, tzinfo=UTC)
    cid = contract.state.contract_id
    renewal = {**{k: amounts(e) for k, e in (("A1", 400_000), ("A2", 300_000), ("A3", 500_000), ("A4", 200_000))}}
    renewal["A1"] = amounts(420_000)
    contract.send(command("Renew", cid, PREFET_33, when, year=2025, amounts=renewal))
    pending = avenants_changes(contract.events)["renewal-2025"]
    assert [(r.action_id, r.year, r.etat_delta) for r in pending.amounts] == [("A1", 2025, 20_000 * EUR)]
    for actor, party in ((PREFET_33, Party.ETAT), (BORDEAUX_COLL, Party.COLLECTIVITE)):
        contract.send(command("SignAvenant", cid, actor, when, avenant_id="renewal-2025", party=party))
    assert contract.state.avenants["renewal-2025"].concluded
    concluded = avenants_changes(contract.events)["renewal-2025"]
    assert concluded.model_copy(update={"concluded_on": None}) == pending and pending.concluded_on is None
    assert concluded.concluded_on == date(2024, 12, 1)  # the business date both had signed by

    # Read as what it changed (before / after, dated) once concluded; as what it proposes while it waits.
    avenant = contract.state.avenants["renewal-2025"]
    shown = render_changes(avenant, concluded)
    assert "État avant" in shown and "Collectivité après" in shown and "conclu le 1er décembre 2024" in shown
    assert "actuel" not in shown and "proposé" not in shown
    waiting = render_changes(avenant.model_copy(update={"signatures": ()}), pending)
    assert "État actuel" in waiting and "Collectivité proposée" in waiting and "avant" not in waiting
    # Never concluded and past the day it could be signed: what it would have changed, said so.
    lapsed = render_changes(avenant.model_copy(update={"signatures": ()}), pending, lapsed=True)
    assert (
        "ce qu'il aurait changé" in lapsed and "ne peut plus être signé" in lapsed and "ce qu'il change" not in lapsed
    )


def render_changes(avenant: Avenant, changes: AvenantChanges, lapsed: bool = False) -> str:
    from pacte.web.rendering import TEMPLATES

    template = TEMPLATES.env.from_string(
        '{% from "_avenant_changes.html" import avenant_changes %}'
        "{{ avenant_changes(avenant, changes, lapsed=lapsed) }}"
    )
    return " ".join(template.render(avenant=avenant, changes=changes, lapsed=lapsed, root="/ui").split())
