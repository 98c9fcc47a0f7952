"""Every date and default of DOMAIN.md §4 that the public texts leave to the project ([choix]) is a policy value."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from domain.axes import TerritoryKind


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

    def review_deadline(self, year: int) -> date:
        return date(year, *self.review_deadline_month_day)

    def renewal_deadline(self, next_year: int) -> date:
        return date(next_year - 1, *self.renewal_deadline_month_day)

    def report_deadline(self, year: int) -> date:
        return date(year + 1, *self.report_deadline_month_day)


DEFAULT_POLICY = Policy()
