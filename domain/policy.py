"""Every date and default of DOMAIN.md §4 that the public texts leave to the project ([choix]) is a policy value.

A contract lives four years and the rules around it change (a new instruction, a deadline moved): a value changed
from a date on is a `PolicyChange`, and a fact is judged by the values in force on its business date
(`Policy.in_force_on`), so a 2025 fact typed in 2027, or imported, is judged as in 2025. A year's deadlines are fixed
by the rules in force when that programme year opened (1 January), whenever they are computed.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from domain.axes import TerritoryKind
from domain.limits import MAX_REVIEWS_PER_YEAR


class PolicyChange(BaseModel):
    """Policy values changed from a date on, by a text. Never edited once a fact was judged by it: a later change is
    another change. Its ``id`` also names the ``workflow.patched`` marker behind which running contracts take it, and
    the dated versions of rules declared with it (domain/rules/declaration.py, ``amends``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")
    in_force_from: date
    reference: str = Field(min_length=1, max_length=300)  # the text that decided it, for auditors
    values: dict[str, Any] = Field(default_factory=dict)  # Policy field -> its value from ``in_force_from`` on


class Instalment(BaseModel):
    """One of the convention's instalments of a year's État payment (DOMAIN.md §8, [choix]): the payments of the year
    up to and including it may reach ``share_percent`` of the year's payable État amount (programmed − réfaction),
    once ``after`` has happened: the contract's signature, or the year's execution report."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z_]{1,30}$")
    share_percent: int = Field(ge=1, le=100)
    after: Literal["signature", "execution_report"]


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True)

    first_year: int = 2024
    last_year: int = 2027
    earliest_date: date = date(2023, 10, 27)  # [texte] instruction DGCS/SD1B/2023/168 (métropoles)
    earliest_date_departements: date = date(2023, 11, 23)  # [texte] instruction DGCS/SD1B/2023/169 (départements)
    programme_start: date = date(2024, 1, 1)  # [texte] in force from 1 January 2024, retroactively
    programme_end: date = date(2027, 12, 31)  # [texte]
    metropole_signature_deadline: date = date(2024, 3, 31)  # [texte]
    mid_term_evaluation_deadline: date = date(2026, 6, 30)  # [texte]
    mid_term_evaluation_opens: date = date(2026, 1, 1)  # [choix] an evaluation "à mi-parcours" is made in 2026
    # [choix] deadlines, expressed relative to programme year N.
    review_deadline_month_day: tuple[int, int] = (12, 31)  # committee review of N by 31 Dec N
    review_reminder_days: int = 60  # reminder before every deadline, 60 days ahead as for the committee review
    renewal_deadline_month_day: tuple[int, int] = (12, 31)  # renewal for N+1 signed by 31 Dec N
    report_deadline_month_day: tuple[int, int] = (3, 31)  # execution report of N by 31 Mar N+1
    final_report_deadline: date = date(2028, 3, 31)
    # Clocks differ between machines, and a timer's fact (a year opening at midnight) may be recorded just before an
    # operator's command stamped a moment earlier: within this tolerance the command is recorded at the last event's
    # time; beyond it, it is refused as back-dated.
    clock_skew_tolerance_s: int = 300
    # [choix] DOMAIN.md §7: moving money between actions needs an amendment signed by both parties.
    amendment_requires_both_parties: bool = True
    # [choix] A fact recorded more than this many days after it happened is marked "recorded late" for auditors.
    late_record_threshold_days: int = 7
    # Which version of the rules on the order facts arrive in decides (issue 24): 1, as first released; 2, the
    # calendar's facts due by a command's business date are brought in before it is decided (domain/calendar.py,
    # ``calendar_until``), and a fact recorded late withdraws, by compensating facts, the calendar's facts after it
    # that it makes untrue (a miss no longer owed, a year opening after a résiliation). Taken by running contracts
    # behind the patch of ``FACTS_IN_ANY_ORDER`` below, so the histories decided by version 1 replay as they were.
    order_rules: int = 1
    # [choix] DOMAIN.md §4: the committee meets at least once a year; the most reviews a year may hold (4 under the
    # first rules, a code constant then; 12 from issue 24: monthly committees exist), never above what is storable.
    max_reviews_per_year: int = Field(default=4, ge=1, le=MAX_REVIEWS_PER_YEAR)
    # [choix] DOMAIN.md §8: the convention's instalments, in order: an advance of half the year's État amount once
    # signed, the balance after the year's execution report (never more than the État spending it reports).
    instalments: tuple[Instalment, ...] = (
        Instalment(name="avance", share_percent=50, after="signature"),
        Instalment(name="solde", share_percent=100, after="execution_report"),
    )
    # The changes of these values since the programme began, each from its date (see the module's docstring).
    changes: tuple[PolicyChange, ...] = ()
    # In a copy for one date (in_force_on), the values the changes replaced: what the other dates read.
    _undated: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _changes_name_values(self) -> Policy:
        ids = [c.id for c in self.changes]
        if len(set(ids)) != len(ids):
            raise ValueError(f"changes: an id is used twice ({', '.join(ids)})")
        for change in self.changes:
            unknown = set(change.values) - set(type(self).model_fields) | ({"changes"} & set(change.values))
            if unknown:
                raise ValueError(f"changes: {change.id} changes no policy value named {', '.join(sorted(unknown))}")
        return self

    def in_force_on(self, day: date) -> Policy:
        """The values in force on ``day``: every change dated on or before it, in date order. Without such a change,
        the policy itself (so a policy without changes decides exactly as before changes existed)."""
        undated = self.undated()
        values: dict[str, Any] = {}
        for change in sorted(self.changes, key=lambda c: c.in_force_from):
            if change.in_force_from <= day:
                values |= change.values
        if not values:
            return undated
        dated = type(self).model_validate(undated.model_dump() | values)
        dated._undated = {name: getattr(undated, name) for name in values}
        return dated

    def undated(self) -> Policy:
        """The values before any change (what ``in_force_on`` starts from)."""
        if not self._undated:
            return self
        undated = self.model_copy(update=self._undated)
        undated._undated = {}  # model_copy copies the private part too
        return undated

    def in_force(self, day: date) -> frozenset[str]:
        """The ids of the changes in force on ``day``."""
        return frozenset(c.id for c in self.changes if c.in_force_from <= day)

    def with_changes(self, changes: tuple[PolicyChange, ...]) -> Policy:
        """This policy with more changes (those it has already are not added twice)."""
        have = {c.id for c in self.changes}
        more = tuple(c for c in changes if c.id not in have)
        return self.undated().model_copy(update={"changes": (*self.changes, *more)}) if more else self

    @property
    def years(self) -> range:
        return range(self.first_year, self.last_year + 1)

    def year_opened_by(self, signed_on: date) -> int:
        """The programme year a contract signed on ``signed_on`` opens: 2024 if signed before the programme (it is in
        force from 1 January 2024 all the same), the last year if signed after it."""
        return min(max(signed_on.year, self.first_year), self.last_year)

    def earliest_date_for(self, kind: TerritoryKind | None) -> date:
        """Nothing happens before the instruction that concerns the territory's kind."""
        return self.earliest_date_departements if kind is TerritoryKind.DEPARTEMENT else self.earliest_date

    def of_year(self, year: int) -> Policy:
        """The rules a programme year's obligations follow: those in force when it opened, on 1 January."""
        return self.in_force_on(date(year, 1, 1)) if self.changes else self

    def review_deadline(self, year: int) -> date:
        return date(year, *self.of_year(year).review_deadline_month_day)

    def renewal_deadline(self, next_year: int) -> date:
        return date(next_year - 1, *self.of_year(next_year - 1).renewal_deadline_month_day)

    def report_deadline(self, year: int) -> date:
        return date(year + 1, *self.of_year(year).report_deadline_month_day)


DEFAULT_POLICY = Policy()

# The changes decided since the programme began, in date order: running contracts take each behind
# ``workflow.patched(change.id)`` (workflows/contract.py), so a history recorded before it replays as it was decided.
# The README ("Rules that change over four years") shows how one is added.
FACTS_IN_ANY_ORDER = PolicyChange(
    id="facts-in-any-order-v2",
    # A correction of how facts are decided whatever the order they arrive in, not a new text: every fact is judged
    # by it, from the programme's earliest date; running contracts take it behind its patch.
    in_force_from=date(2023, 10, 27),
    reference="issue 24: rules that hold whatever the order facts arrive in",
    values={"order_rules": 2, "max_reviews_per_year": 12},
)
RULE_CHANGES: tuple[PolicyChange, ...] = (FACTS_IN_ANY_ORDER,)


def in_code(policy: Policy = DEFAULT_POLICY) -> Policy:
    """``policy`` with every rule change the code brings: what a contract started today is decided by (the workflow
    takes the same changes behind their patches; the service's dry runs and the tests use this)."""
    return policy.with_changes(RULE_CHANGES)
