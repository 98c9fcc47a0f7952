"""What a contract waits for, act by act: the deliberation to record, each party's signature, the committee review,
the execution report, the renewal to propose and each avenant's signatures, the mid-term evaluation — each with its
due date and how late it is, judged by the domain's deadlines (``deadline_standings``). Who may do each act is not
decided here: the caller keeps the acts the person's role and scope allow (the decider's own rules), so a list never
offers an act the decider would refuse for its role. Pure: the caller says what "today" is."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from domain.deadlines import (
    DeadlineKind,
    Standing,
    avenant_signable,
    avenant_signature_due,
    deadline_standings,
    missing_reports,
    pending_deadlines,
)
from domain.lifecycle import possible_now
from domain.policy import Policy
from domain.state import ContractState
from domain.status import Status
from domain.values import AvenantKind, Party

# The act that meets each deadline.
MEETS = {
    DeadlineKind.COMMITTEE_REVIEW: "RecordCommitteeReview",
    DeadlineKind.EXECUTION_REPORT: "SubmitExecutionReport",
    DeadlineKind.FINAL_REPORT: "SubmitExecutionReport",
    DeadlineKind.MID_TERM_EVALUATION: "RecordMidTermEvaluation",
}


class WaitingAct(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str  # the command that does it
    year: int | None = None
    party: Party | None = None  # for a signature: who signs; for a missed obligation's remedy: who owed it
    avenant_id: str | None = None
    deadline: DeadlineKind | None = None
    due: date | None = None
    late_days: int = 0  # 0 when not late (or no due date)
    days_left: int | None = None
    # Another act must come first: a renewal waits for the current year's committee review (the decider's rule).
    after: DeadlineKind | None = None
    # The obligation missed that this act still makes good: a renewal for the running year that never came, whose
    # year's money is still set by an avenant of that year (due and lateness are the missed renewal's).
    missed: DeadlineKind | None = None


def waiting_acts(state: ContractState, policy: Policy, today: date) -> list[WaitingAct]:
    """Every act the contract waits for, the latest-due first among the late, then by due date, undated last."""
    standings = {(s.kind, s.year): s for s in deadline_standings(state, policy, today)}
    pending = {(d.kind, d.year) for d in pending_deadlines(state, policy)}

    def dated(deadline: DeadlineKind, year: int | None, /, **act: object) -> WaitingAct:
        s = standings.get((deadline, year))
        if s is None or (deadline, year) not in pending:
            return WaitingAct.model_validate(act)
        late = s.standing is Standing.MISSED
        return WaitingAct.model_validate(
            {**act, "deadline": deadline, "due": s.due, "late_days": s.days if late else 0}
            | {"days_left": None if late else s.days}
        )

    acts: list[WaitingAct] = []
    if state.status in (Status.PROPOSED, Status.NEGOTIATING) and state.deliberation is None:
        # No fiche yet: the fiches come first (either party's), before anything can be deliberated.
        first = "RecordDeliberation" if state.actions else "AddAction"
        acts.append(dated(DeadlineKind.SIGNATURE, None, kind=first))
    if state.status is Status.SUSPENDED:
        # Suspended, the renewal it owes cannot be proposed: the resumption waits, due with the renewal if one is owed.
        owed = [year for kind, year in pending if kind is DeadlineKind.RENEWAL]
        acts.append(dated(DeadlineKind.RENEWAL, owed[0], kind="Resume") if owed else WaitingAct(kind="Resume"))
    if state.status is Status.DELIBERATED:
        for party in (Party.ETAT, Party.COLLECTIVITE):
            if party not in state.signatures:
                acts.append(dated(DeadlineKind.SIGNATURE, None, kind="SignContract", party=party))
    for deadline, year in sorted(pending, key=lambda k: (k[1] or 0, k[0].value)):
        if deadline in MEETS:
            acts.append(dated(deadline, year, kind=MEETS[deadline], year=year))
        elif deadline is DeadlineKind.RENEWAL:
            proposed = [a for a in state.avenants.values() if a.kind.value == "renewal" and a.year == year]
            if not proposed:
                reviewed = year is not None and state.year(year - 1).reviews
                after = None if reviewed else DeadlineKind.COMMITTEE_REVIEW
                acts.append(dated(deadline, year, kind="Renew", year=year, after=after))
    acts.extend(_missed_renewal(state, policy, today))
    if state.status is Status.CLOSING and not missing_reports(state, policy):
        acts.append(WaitingAct(kind="CloseContract"))  # every report in: the préfet closes (no date is owed for it)
    for avenant_id, avenant in sorted(state.avenants.items()):
        if not avenant_signable(avenant, state, policy, today):
            continue  # concluded, or past the day the decider takes its signatures: nothing left to sign
        # Due the last day the decider takes a signature (a renewal by its deadline, an amendment within its year).
        due = avenant_signature_due(avenant, policy)
        late = max((today - due).days, 0)
        for party in (Party.ETAT, Party.COLLECTIVITE):
            if party in avenant.signatures:
                continue
            renewal = avenant.kind is AvenantKind.RENEWAL
            acts.append(
                WaitingAct(
                    kind="SignAvenant",
                    year=avenant.year,
                    party=party,
                    avenant_id=avenant_id,
                    deadline=DeadlineKind.RENEWAL if renewal else None,
                    due=due,
                    late_days=late,
                    days_left=None if late else (due - today).days,
                )
            )
    return sorted(
        (a for a in acts if possible_now(a.kind, state)),
        key=lambda a: (a.due is None, -a.late_days, a.due or date.max, a.kind),
    )


def _missed_renewal(state: ContractState, policy: Policy, today: date) -> list[WaitingAct]:
    """The running year's renewal, owed by 31 December of the year before and never concluded: the year opened on the
    contract's amounts, which an avenant of that year (the préfet's to propose, both to sign, within the year) can still
    set, réfaction applied. Nothing once an avenant of that year is proposed or concluded, or its report is in; nothing
    for a year already over (its money is frozen)."""
    year = state.current_year
    if year is None or state.status is not Status.IN_EXECUTION or year <= policy.first_year:
        return []
    record = state.year(year)
    if record.renewed or record.report is not None or not state.year(year - 1).opened:
        return []  # renewed, reported, or not under way the year before (a late signer owed no renewal for it)
    if any(
        a.year == year and (a.concluded or avenant_signable(a, state, policy, today)) for a in state.avenants.values()
    ):
        return []
    due = policy.renewal_deadline(year)
    return [
        WaitingAct(
            kind="Amend",
            year=year,
            party=Party.ETAT,
            deadline=DeadlineKind.RENEWAL,
            due=due,
            late_days=max((today - due).days, 0),
            missed=DeadlineKind.RENEWAL,
        )
    ]
