"""At which stages of a contract each command may be sent: the one table the decider enforces and the web interface
reads to offer only the acts possible now."""

from __future__ import annotations

from domain.state import FINAL_STATUSES, NEGOTIABLE_STATUSES, RUNNING_STATUSES, ContractState, Status

SIGNED_STATUSES = frozenset({Status.SIGNED, *RUNNING_STATUSES, Status.CLOSING})

WHEN: dict[str, frozenset[Status]] = {
    "AddAction": NEGOTIABLE_STATUSES,
    "ChangeAction": NEGOTIABLE_STATUSES,
    "RemoveAction": NEGOTIABLE_STATUSES,
    "RecordDeliberation": NEGOTIABLE_STATUSES,
    "SignContract": frozenset({Status.DELIBERATED}),
    "RecordCommitteeReview": RUNNING_STATUSES,
    "Renew": frozenset({Status.IN_EXECUTION}),
    "Amend": frozenset({Status.IN_EXECUTION}),
    "SignAvenant": frozenset({Status.IN_EXECUTION}),
    "SubmitExecutionReport": RUNNING_STATUSES | {Status.CLOSING},
    "RecordMidTermEvaluation": RUNNING_STATUSES,
    "Suspend": frozenset({Status.IN_EXECUTION}),
    "Resume": frozenset({Status.SUSPENDED}),
    "BeginClosing": RUNNING_STATUSES,
    "CloseContract": frozenset({Status.CLOSING}),
    "OpenProgrammeYear": RUNNING_STATUSES,
    "RectifyExecutionReport": RUNNING_STATUSES | {Status.CLOSING},
    # Checked by their own rules: a signature to rectify exists only once signed; résiliation ends any live contract.
    "RectifySignature": SIGNED_STATUSES,
    "Terminate": frozenset(set(Status) - FINAL_STATUSES - {Status.NONE}),
}


def possible_now(kind: str, state: ContractState) -> bool:
    """Whether the contract's stage admits the command (its other rules — dates, money — are the decider's)."""
    allowed = WHEN.get(kind)
    return allowed is not None and state.status in allowed
