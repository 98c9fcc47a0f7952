"""An accounting extract from Chorus's reporting, read and matched to contracts (issue 30, reconciliation).

The file is CSV as French spreadsheets write it (``;``, an optional BOM), one line per engagement juridique line or
payment, with a header naming these columns (any order, case and accents ignored; other columns ignored):

    numero_ej            the Chorus EJ number (10 digits)
    poste_ej             the EJ's line (poste)
    numero_piece         the payment document's number; empty on a commitment line
    date                 JJ/MM/AAAA or AAAA-MM-JJ: the commitment's or the payment's date (business time)
    montant              in euros, French or programmatic (1 500 000,00 or 1500000.00)
    siret                the third party (the collectivité): its first 9 digits are its SIREN
    centre_financier     kept for the report
    domaine_fonctionnel  must be the Pacte's: 0304-23…

Each line is matched here, purely: a payment to the contract whose commitments hold its EJ (or an earlier commitment
line of the same file); a commitment to the contract of the territory whose SIREN is the third party's (métropoles and
assimilated, Paris, Lyon: a département's SIREN is not in Pacte's catalogue, so its commitments are typed, not
imported), for the year of its date. What is already recorded (the same EJ, the same payment document) is reported
unchanged: the same file twice changes nothing. The contract's rules then decide each planned line (decide), and a
refusal is reported with its reason, nothing recorded for that line.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import date, datetime
from typing import Any, Literal, NoReturn

from pydantic import BaseModel, ConfigDict

from domain.errors import ValidationRefused
from domain.money import MoneyFormatError, parse_euros
from domain.state import ContractState
from domain.values import EJ_NUMBER

COLUMNS = (
    "numero_ej",
    "poste_ej",
    "numero_piece",
    "date",
    "montant",
    "siret",
    "centre_financier",
    "domaine_fonctionnel",
)
PACTE_DOMAIN = "0304-23"  # programme 304, action 23: Pacte des solidarités (DOMAIN.md §8)
MAX_EXTRACT_LINES = 5000

# planned (matched, to decide), then recorded / would_record (a dry run) / refused by the contract's rules; or
# unchanged (already recorded) / unmatched (unreadable, not the Pacte's, no contract).
Outcome = Literal["planned", "unchanged", "unmatched", "recorded", "would_record", "refused"]


class ExtractLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line: int  # in the file, the header being line 1
    ej_number: str
    ej_line: str
    document: str  # empty: a commitment line
    day: date
    amount: int  # cents
    siret: str
    centre: str


class PlannedLine(BaseModel):
    """What one line of the extract becomes: a command to decide (``planned``), nothing (``unchanged``: already
    recorded), or nothing and a reason (``unmatched``: unreadable, not the Pacte's, no contract)."""

    model_config = ConfigDict(frozen=True)

    line: int
    outcome: Outcome
    reason: str = ""
    contract_id: str | None = None
    kind: str | None = None  # RecordCommitment or RecordPayment
    fields: dict[str, Any] = {}
    day: date | None = None
    key: str = ""  # (EJ, line, document): the idempotency key of what it records


def _name(header: str) -> str:
    plain = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode().strip().lower()
    return plain.replace(" ", "_").replace("°", "").replace("-", "_")


def _day(text: str) -> date:
    text = text.strip()
    if "/" in text:
        return datetime.strptime(text, "%d/%m/%Y").date()
    return date.fromisoformat(text)


def _unreadable(reason: str) -> NoReturn:
    raise ValidationRefused(
        f"body: not an accounting extract ({reason})",
        field="body",
        rule="extract.unreadable",
        params={"reason": reason},
    )


def parse_extract(text: str) -> tuple[list[ExtractLine], list[PlannedLine]]:
    """The lines read, and those that could not be read (as ``unmatched`` with their reason). A file that is not an
    extract at all (empty, not CSV, without the columns) is refused whole (``extract.unreadable``)."""
    try:
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    except csv.Error as exc:  # a field over the csv module's limit
        _unreadable(f"not a CSV file: {exc}")
    if not rows:
        _unreadable("empty file")
    names = [_name(h) for h in rows[0]]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        _unreadable(f"missing columns: {', '.join(missing)}")
    read, problems = [], []
    for number, row in enumerate(rows[1 : MAX_EXTRACT_LINES + 1], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = dict(zip(names, (c.strip() for c in row), strict=False))
        try:
            if not cells.get("domaine_fonctionnel", "").startswith(PACTE_DOMAIN):
                raise ValueError(f"functional domain {cells.get('domaine_fonctionnel')!r} is not {PACTE_DOMAIN}")
            if not EJ_NUMBER.fullmatch(cells["numero_ej"]):
                raise ValueError(f"EJ number {cells['numero_ej']!r} is not 10 digits")
            read.append(
                ExtractLine(
                    line=number,
                    ej_number=cells["numero_ej"],
                    ej_line=cells.get("poste_ej", ""),
                    document=cells.get("numero_piece", ""),
                    day=_day(cells["date"]),
                    amount=parse_euros(cells["montant"]),
                    siret=cells.get("siret", "").replace(" ", ""),
                    centre=cells.get("centre_financier", ""),
                )
            )
        except (ValueError, KeyError, MoneyFormatError) as exc:
            problems.append(PlannedLine(line=number, outcome="unmatched", reason=str(exc)))
    if len(rows) - 1 > MAX_EXTRACT_LINES:
        problems.append(PlannedLine(line=MAX_EXTRACT_LINES + 2, outcome="unmatched", reason="too many lines"))
    return read, problems


def plan(lines: list[ExtractLine], states: dict[str, ContractState]) -> list[PlannedLine]:
    """Each line matched to a contract and planned as a commitment or a payment (see the module's docstring)."""
    by_ej: dict[str, str] = {}
    for contract_id, state in states.items():
        for record in state.years.values():
            for c in record.commitments:
                by_ej[c.ej_number] = contract_id
    by_siren = {s.territory_id: contract_id for contract_id, s in states.items() if s.territory_id.isdigit()}
    planned: list[PlannedLine] = []
    cid: str | None
    seen: set[str] = set()
    for x in lines:
        key = f"chorus-{x.ej_number}-{x.ej_line[:20] or '0'}-{x.document[:40] or 'ej'}"
        common = {"line": x.line, "day": x.day, "key": key}
        if key in seen:
            planned.append(PlannedLine(**common, outcome="unchanged", reason="the same line earlier in the file"))
            continue
        seen.add(key)
        if x.document:
            cid = by_ej.get(x.ej_number)
            if cid is None:
                planned.append(PlannedLine(**common, outcome="unmatched", reason=f"unknown EJ {x.ej_number}"))
                continue
            state = states[cid]
            if any(p.document == x.document for r in state.years.values() for p in r.payments):
                planned.append(PlannedLine(**common, outcome="unchanged", contract_id=cid, reason="already recorded"))
                continue
            fields = {"ej_number": x.ej_number, "instalment": "", "amount": x.amount, "document": x.document}
            planned.append(
                PlannedLine(**common, outcome="planned", contract_id=cid, kind="RecordPayment", fields=fields)
            )
            continue
        if x.ej_number in by_ej:
            cid = by_ej[x.ej_number]
            known = states[cid].commitment(x.ej_number) if cid in states else None
            if known is not None:
                planned.append(PlannedLine(**common, outcome="unchanged", contract_id=cid, reason="already recorded"))
            else:  # an earlier line of this file commits it
                planned.append(
                    PlannedLine(**common, outcome="unmatched", contract_id=cid, reason=f"EJ {x.ej_number} twice")
                )
            continue
        cid = by_siren.get(x.siret[:9])
        if cid is None:
            planned.append(
                PlannedLine(**common, outcome="unmatched", reason=f"no contract for the third party {x.siret[:9]}")
            )
            continue
        by_ej[x.ej_number] = cid
        fields = {"year": x.day.year, "ej_number": x.ej_number, "amount": x.amount}
        planned.append(
            PlannedLine(**common, outcome="planned", contract_id=cid, kind="RecordCommitment", fields=fields)
        )
    return planned


def instalment_for(state: ContractState, year: int, names: list[tuple[str, str]]) -> str:
    """The instalment a payment of ``year`` is, by the convention's order (``names``: (name, after)): the last whose
    condition holds — the balance once the year's report is in, else the advance."""
    reported = state.year(year).report is not None
    usable = [n for n, after in names if after == "signature" or (after == "execution_report" and reported)]
    return usable[-1] if usable else names[0][0]
