"""Reprise de l'existant: a contract's whole history taken over from a file, decided fact by fact by the same rules.

A file is JSON lines, one dated fact a line: the command's fields, ``occurred_at`` (an ISO date, or date-time), the
``actor`` who really did it and the ``source`` document. The calendar's own facts (year openings, missed deadlines,
closing) are interleaved at their nominal dates, exactly as the workflow's timers would have recorded them, and the
deadlines still open are judged once the whole history is in (up to "now"). All or nothing: the first line that
breaks a rule refuses the contract, naming the line, the field and the rule.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from domain.actors import Actor, Role
from domain.business_time import When, occurred_at
from domain.calendar import calendar_until
from domain.commands import COMMAND_ADAPTER, ChangeAction, Command
from domain.decider import decide
from domain.errors import DomainError, ValidationRefused
from domain.events import Event
from domain.evolve import evolve
from domain.policy import Policy
from domain.rules.negotiation import unchanged_action_as_recorded_before
from domain.state import ContractState
from domain.territories import Territory

# The calendar records these; a file cannot claim them.
SYSTEM_COMMANDS = frozenset({"OpenProgrammeYear", "RecordMissedDeadline", "BeginClosing"})
MAX_LINES = 2000
IMPORT_PREFIX = "import:"  # the request ids of imported facts: auditors see them as such
_WHEN: TypeAdapter[date | datetime] = TypeAdapter(When)


class LineRefused(DomainError):
    """A line of an import file broke a rule: ``line`` says which (1-based, in the file)."""

    def __init__(self, line: int, error: DomainError) -> None:
        super().__init__(
            f"line {line}: {error.message}", field=error.field, code=error.code, rule=error.rule, params=error.params
        )
        self.line = line


class ImportLine(BaseModel):
    """One parsed line: its number in the file and the command it carries."""

    model_config = ConfigDict(frozen=True)

    line: int
    command: Command


def request_id_of(raw: dict[str, Any]) -> str:
    """A line's request id derives from its content: importing the same file twice records each fact once."""
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return IMPORT_PREFIX + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def check_party(actor: Actor, territory: Territory) -> None:
    """An imported fact is the act of one of the territory's own parties, exactly: the préfet of its départements (no
    national scope, no other département), the collectivité itself, or the commissaire of its région. A file cannot
    attribute a fact to an auditor, an administrator, the system, a national scope or another territory's party."""
    # As live (domain.scope: a préfet acts on the territory when one of its départements is in its scope), but never
    # by a national scope: the file attributes the fact to the territory's own préfet, collectivité or commissaire.
    own = {
        Role.PREFET: any(dep in actor.scope for dep in territory.departements),
        Role.COLLECTIVITE: territory.id in actor.scope,
        Role.COMMISSAIRE: territory.region in actor.scope,
    }
    if "*" in actor.scope or not own.get(actor.role, False):
        raise ValidationRefused(
            f"actor: an imported fact is the act of one of {territory.name}'s parties — prefet with scope "
            f"{', '.join(territory.departements)}, collectivite with scope {territory.id}, or commissaire with scope "
            f"{territory.region} — not {actor.role.value} {actor.identity!r} (scope {', '.join(actor.scope) or '—'})",
            field="actor",
            rule="import.party",
            params={"territory": territory.name, "role": actor.role.value},
        )


def parse_line(
    raw: Any, line: int, recorded_by: Actor, now: datetime, territory: Territory | None = None
) -> ImportLine:
    """A line of the file as a command, or LineRefused naming the field and the rule. With ``territory`` (the
    contract's), the line's actor must be one of its parties. A person the line names is *declared*: the file says
    so, nobody signed in (``Person.declared``), whatever the line claims."""
    if not isinstance(raw, dict):
        raise LineRefused(
            line,
            ValidationRefused("line: a line is a JSON object (one fact)", field="line", rule="import.not_an_object"),
        )
    kind = raw.get("type")
    if kind in SYSTEM_COMMANDS:
        raise LineRefused(
            line,
            ValidationRefused(
                f"type: {kind} is recorded by the calendar itself, at its nominal date; leave it out of the file",
                field="type",
                rule="import.calendar_fact",
                params={"type": kind},
            ),
        )
    for required in ("occurred_at", "actor", "source"):
        if required not in raw:
            raise LineRefused(
                line,
                ValidationRefused(
                    f"{required}: every line names it (the fact's date, who did it, the document)",
                    field=required,
                    rule="import.required",
                    params={"name": required},
                ),
            )
    try:
        when = _WHEN.validate_python(raw["occurred_at"])
    except ValidationError:
        raise LineRefused(
            line,
            ValidationRefused(
                "occurred_at: an ISO date (2024-03-28) or date-time",
                field="occurred_at",
                rule="invalid_date",
                params={"value": str(raw["occurred_at"])[:40]},
            ),
        ) from None
    fields = {k: v for k, v in raw.items() if k != "occurred_at"}
    try:
        command = COMMAND_ADAPTER.validate_python(
            {
                **fields,
                "request_id": request_id_of(raw),
                "at": occurred_at(when, now),
                "entered_at": now,
                "recorded_by": recorded_by,
            }
        )
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:] if p != kind) or "line"
        raise LineRefused(
            line,
            ValidationRefused(f"{where}: {first['msg']}", field=where, rule="import.invalid", params={"name": where}),
        ) from None
    actor = command.actor
    if territory is not None:
        try:
            check_party(actor, territory)
        except DomainError as error:
            raise LineRefused(line, error) from None
    if actor.person is not None:
        declared = actor.model_copy(update={"person": actor.person.model_copy(update={"declared": True})})
        command = command.model_copy(update={"actor": declared})
    return ImportLine(line=line, command=command)


def import_history(
    lines: Sequence[ImportLine],
    state: ContractState,
    policy: Policy,
    now: datetime,
    *,
    unchanged_action_recorded: bool = False,
) -> tuple[list[Event], ContractState]:
    """Decide every line in order, the calendar's facts interleaved at their dates, then the calendar up to ``now``.
    Returns the events and the state they fold to; raises LineRefused at the first line refused.
    ``unchanged_action_recorded``: a ChangeAction that changes nothing records its ActionChanged, as it did before
    (only the workflow asks, replaying an import recorded then)."""

    def decide_one(command: Command, current: ContractState) -> list[Event]:
        decided = decide(command, current, policy)
        if not decided and unchanged_action_recorded and isinstance(command, ChangeAction):
            return unchanged_action_as_recorded_before(command, current)
        return decided

    events: list[Event] = []
    previous: datetime | None = None
    for entry in lines:
        command = entry.command.model_copy(update={"entered_at": now})  # a fact after ``now`` is in the future
        if previous is not None and command.at < previous:
            raise LineRefused(
                entry.line,
                ValidationRefused(
                    f"occurred_at: {command.at.date()} is before the previous line's date; a contract's facts are "
                    "listed in the order they happened",
                    field="occurred_at",
                    rule="import.out_of_order",
                    params={"date": str(command.at.date())},
                ),
            )
        previous = command.at
        calendar, state = calendar_until(state, policy, command.at, decide_one)
        events.extend(calendar)
        try:
            decided = decide_one(command, state)
        except DomainError as error:
            raise LineRefused(entry.line, error) from None
        for event in decided:
            state = evolve(state, event)
        events.extend(decided)
    calendar, state = calendar_until(state, policy, now, decide_one)
    events.extend(calendar)
    return events, state
