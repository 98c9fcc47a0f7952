"""The money trail of a contract, year by year (issue 30): programmed → notified → committed → paid → used →
recoverable, read from the state alone, and the gaps between them stated (never a silent zero).

A year with no payment recorded (every contract before issue 30, imports without payments) reads
``payments_recorded = False``, ``paid = None`` and ``paid_derived`` = programmed − réfaction, as Pacte derived it
before; the gap ``payments_not_recorded`` says so.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from domain.state import ContractState

# The gaps a year's figures can show, each a plain statement (French sentences: pacte/web/formats.py).
GAPS = (
    "envelope_not_notified",  # programmed État money, no envelope notified yet
    "envelope_below_programme",  # the envelope available is below what the programme says to pay: avenant financier
    "committed_above_available",
    "paid_above_committed",
    "paid_above_payable",
    "payments_not_recorded",  # the paid figure is derived (programmed − réfaction), not recorded
    "paid_below_used",  # the execution report proves more État spending than paid: the État owes the rest
    "paid_above_used",  # paid beyond the État spending reported: owed back (réfaction or titre de perception)
    "owed_back_not_claimed",  # paid beyond what was used and not deducted by réfaction, no titre for it yet
    "recovery_outstanding",  # titres de perception not collected in full
)


class YearTrail(BaseModel):
    """One programme year's figures, in cents."""

    model_config = ConfigDict(frozen=True)

    year: int
    programmed: int  # the État amounts of the year's actions
    refaction: int  # deducted from this year's payment (the previous year's recoverable credits)
    payable: int  # programmed − réfaction
    notified: int
    frozen: int
    cancelled: int
    available: int  # notified − frozen − cancelled (AE)
    committed: int
    paid: int | None  # None: no payment recorded for the year
    paid_derived: int  # paid if recorded, else payable (as before issue 30)
    payments_recorded: bool
    used: int | None  # the État spending of the year's execution report, once in
    recoverable: int  # from the execution report
    owed_back: int  # claimable by titre de perception, from what was paid (``owed_back``)
    claimed: int  # titres de perception issued
    recovered: int  # collected on them
    gaps: tuple[str, ...]


def owed_back(state: ContractState, year: int) -> int:
    """What the État may claim back of a year by titre de perception, computed from what was **paid**: the payments
    beyond the État spending the year's report proves eligible (programmed − recoverable), less what the réfaction
    already deducted from the next year's payment. Nothing before the report (nothing is proven spent or not)."""
    record = state.year(year)
    if record.report is None:
        return 0
    eligible = max(0, state.etat_total(year) - record.recoverable_etat)
    return max(0, record.paid - eligible - state.year(year + 1).refaction)


def trail(state: ContractState) -> list[YearTrail]:
    """Every programme year the contract opened or holds money facts for, in order."""
    rows = []
    for year, record in sorted(state.years.items()):
        if not (record.opened or record.envelope_movements or record.commitments or record.payments):
            continue
        programmed = state.etat_total(year)
        payable = max(0, programmed - record.refaction)
        recorded = bool(record.payments)
        paid = record.paid if recorded else None
        used = sum(record.report.etat_spent.values()) if record.report is not None else None
        gaps = []
        if programmed and not record.envelope_notified:
            gaps.append("envelope_not_notified")
        elif record.envelope_available < payable:
            gaps.append("envelope_below_programme")
        if record.committed > record.envelope_available:
            gaps.append("committed_above_available")
        if record.paid > record.committed:
            gaps.append("paid_above_committed")
        if record.paid > payable:
            gaps.append("paid_above_payable")
        if not recorded:
            gaps.append("payments_not_recorded")
        elif used is not None and record.paid < used:
            gaps.append("paid_below_used")
        elif used is not None and record.paid > used:
            gaps.append("paid_above_used")
        if record.claimed < owed_back(state, year):
            gaps.append("owed_back_not_claimed")
        if record.recovered < record.claimed:
            gaps.append("recovery_outstanding")
        rows.append(
            YearTrail(
                year=year,
                programmed=programmed,
                refaction=record.refaction,
                payable=payable,
                notified=record.envelope_notified,
                frozen=record.envelope_frozen,
                cancelled=record.envelope_cancelled,
                available=record.envelope_available,
                committed=record.committed,
                paid=paid,
                paid_derived=record.paid if recorded else payable,
                payments_recorded=recorded,
                used=used,
                recoverable=record.recoverable_etat,
                owed_back=owed_back(state, year),
                claimed=record.claimed,
                recovered=record.recovered,
                gaps=tuple(gaps),
            )
        )
    return rows
