"""What a contract waits for, act by act: the deliberation to record, each party's signature, the committee review,
the execution report, the renewal to propose and each avenant's signatures, the mid-term evaluation — each with its
due date and how late it is, judged by the domain's deadlines (``deadline_standings``). Who may do each act is not
decided here: the caller keeps the acts the person's role and scope allow (the decider's own rules), so a list never
offers an act the decider would refuse for its role. Pure: the caller says what "today" is."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from domain.deadlines import DeadlineKind, Standing, deadline_standings, pending_deadlines
from domain.lifecycle import possible_now
from domain.policy import Policy
from domain.state import ContractState
from domain.status import Status
from domain.values import Party

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
    party: Party | None = None  # for a signature: who signs
    avenant_id: str | None = None
    deadline: DeadlineKind | None = None
    due: date | None = None
    late_days: int = 0  # 0 when not late (or no due date)
    days_left: int | None = None
    # Another act must come first: a renewal waits for the current year's committee review (the decider's rule).
    after: DeadlineKind | None = None


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
    if state.status in (Status.PROPOSED, Status.NEGOTIATING) and state.actions and state.deliberation is None:
        acts.append(dated(DeadlineKind.SIGNATURE, None, kind="RecordDeliberation"))
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
    for avenant_id, avenant in sorted(state.avenants.items()):
        if avenant.concluded:
            continue
        for party in (Party.ETAT, Party.COLLECTIVITE):
            if party in avenant.signatures:
                continue
            act = {"kind": "SignAvenant", "year": avenant.year, "party": party, "avenant_id": avenant_id}
            # A renewal is due with the renewal's deadline; an amendment has none of its own.
            renewal = avenant.kind.value == "renewal"
            acts.append(dated(DeadlineKind.RENEWAL, avenant.year, **act) if renewal else WaitingAct.model_validate(act))
    return sorted(
        (a for a in acts if possible_now(a.kind, state)),
        key=lambda a: (a.due is None, -a.late_days, a.due or date.max, a.kind),
    )
