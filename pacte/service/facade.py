"""The service layer the entry points share: the API, the CLI and the web interface call these operations, so a
rule, a role or a scope is checked in one place whatever the door. Each operation takes the acting person first."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.actors import Actor, Role
from domain.authorization import check_role, check_territory_scope
from domain.avenant_history import avenants_changes
from domain.avenants import AvenantChanges
from domain.business_time import PARIS, Day, When, end_of_day
from domain.chorus import PlannedLine, instalment_for, parse_extract, plan
from domain.commands import COMMAND_ADAPTER, Command, ProposeContract
from domain.deadlines import Deadline
from domain.decider import decide
from domain.errors import DomainError, Forbidden
from domain.evolve import fold
from domain.money_trail import YearTrail, trail
from domain.policy import DEFAULT_POLICY, RULE_CHANGES, Policy
from domain.reprise import parse_line
from domain.request_log import keyed_request_id
from domain.state import ContractState
from domain.territories import (
    CONTRACT_ID_PATTERN,
    REFERENCE_TERRITORIES,
    Territory,
    attempt_of,
    contract_id_for,
    synthetic_territory,
)
from domain.timetravel import explain, state_as_of
from domain.upcasting import parse_event
from eventstore.integrity import Anchor, VerifyReport, take_anchor, verify
from eventstore.records import RecordedEvent
from eventstore.store import EventStore
from pacte import audit, metrics, reprise_file
from pacte.runtime import connect_temporal, open_store
from pacte.service import operations, search
from pacte.service.answers import Answer, CrossCheck, ImportOutcome, ImportReport, TimelineEntry
from pacte.service.catalogue import (
    COMMAND_ROUTES,
    CampaignBody,
    ProposeBody,
    business_time,
    command_body_models,
    with_request_id,
)
from pacte.service.dashboard import Dashboard, figures
from pacte.settings import Settings
from workflows.campaign import CampaignWorkflow
from workflows.contract import ContractWorkflow
from workflows.models import CampaignInput, CampaignProgress, CommandResult

CONTRACT_BY_ID: dict[str, Territory] = {contract_id_for(t.id): t for t in REFERENCE_TERRITORIES.values()}
FROM_PATH = {kind: from_path for _, _, kind, from_path in COMMAND_ROUTES}
SUMMARY_COLUMNS = (
    "contract_id, territory_id, territory_name, kind, region, status, current_year, annual_ceiling, version"
)


@contextmanager
def counted(kind: str) -> Iterator[None]:
    """A command's outcome in the metrics: done, refused (with the rule's code) or error."""
    try:
        yield
    except DomainError as error:
        metrics.COMMANDS.labels(kind, "refused").inc()
        metrics.REFUSALS.labels(error.code).inc()
        raise
    except ValidationError:
        metrics.COMMANDS.labels(kind, "refused").inc()
        metrics.REFUSALS.labels("invalid_value").inc()
        raise
    except Exception:
        metrics.COMMANDS.labels(kind, "error").inc()
        raise
    metrics.COMMANDS.labels(kind, "done").inc()


def contract_territory(contract_id: str) -> Territory:
    base = attempt_of(contract_id)[0]
    # A simulation's synthetic intercommunalités are read like any contract (bench.scale's auditor queries).
    territory = CONTRACT_BY_ID.get(base) or synthetic_territory(base.removeprefix("cls-"))
    if territory is None:
        raise DomainError(
            f"contract_id: no contract {contract_id}",
            field="contract_id",
            code="not_found",
            rule="contract.unknown",
            params={"contract": contract_id},
        )
    return territory


def may_read(actor: Actor, contract_id: str) -> None:
    """Auditors read everything; everyone else reads the contracts of their scope."""
    territory = contract_territory(contract_id)
    if actor.role is not Role.AUDITOR:
        check_territory_scope(actor, territory)


def readable(actor: Actor, rows: Iterable[Any]) -> list[dict[str, Any]]:
    """The rows (each naming its contract_id) the actor may read, as dicts."""
    visible = []
    for row in rows:
        try:
            may_read(actor, row["contract_id"])
        except DomainError:
            continue
        visible.append(dict(row))
    return visible


def auditor_only(actor: Actor) -> None:
    if actor.role is not Role.AUDITOR:
        raise Forbidden(
            "actor.role: audits and exports are for auditors", field="actor.role", rule="role.auditors_only"
        )


def authorize(kind: str, actor: Actor, contract_id: str) -> None:
    """Role and scope, checked before any workflow is reached; the domain checks again."""
    check_role(kind, actor)
    check_territory_scope(actor, contract_territory(contract_id))


def policy_now() -> Policy:
    """The rules the service judges deadlines by on its pages: the contracts' policy with the changes decided."""
    return DEFAULT_POLICY.with_changes(RULE_CHANGES)


def may_do(kind: str, actor: Actor, contract_id: str) -> bool:
    try:
        authorize(kind, actor, contract_id)
    except DomainError:
        return False
    return True


def _answer(contract_id: str, result: CommandResult) -> Answer:
    assert result.state is not None, "operations read the state after the update"
    return Answer(contract_id=contract_id, version=result.version, events=result.events, state=result.state)


@dataclass
class Pacte:
    """The running service as its entry points see it: Temporal, the event store and the settings."""

    client: Client
    store: EventStore
    settings: Settings
    # The files of earlier versions were imported when the store opened, by the owner (runtime.open_store): the
    # API's start does not import them again with the runtime role, which may not give grants.
    credentials_imported: bool = False

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings, *, import_credentials: bool = False) -> AsyncIterator[Pacte]:
        async with open_store(settings, import_credentials=import_credentials) as store:
            client = await connect_temporal(settings, attempts=20)
            yield cls(client=client, store=store, settings=settings, credentials_imported=import_credentials)

    # -- reference -------------------------------------------------------------------------------------------------

    @staticmethod
    def territories() -> list[Territory]:
        return sorted(REFERENCE_TERRITORIES.values(), key=lambda t: t.id)

    # -- commands --------------------------------------------------------------------------------------------------

    async def propose(self, actor: Actor, body: ProposeBody, key: str | None = None) -> Answer:
        with counted("ProposeContract"):
            return await self._propose(actor, body, key)

    async def _propose(self, actor: Actor, body: ProposeBody, key: str | None) -> Answer:
        check_role("ProposeContract", actor)
        now = datetime.now(UTC)
        command = with_request_id(
            ProposeContract(
                contract_id=contract_id_for(body.territory) if body.territory.isalnum() else "cls-invalid",
                actor=actor,
                request_id=str(uuid.uuid4()),
                at=business_time(body.occurred_at, now),
                entered_at=now,
                source=body.source,
                territory_id=body.territory,
                annual_ceiling=body.annual_ceiling,
                draft_actions=body.draft_actions,
            ),
            key,
        )
        outcome = await operations.propose(
            self.client,
            self.settings.task_queue,
            command,
            store=self.store,
            search_attributes=self.settings.temporal_search_attributes,
        )
        if not outcome.created or outcome.result is None:
            raise DomainError(
                f"contract_id: {outcome.contract_id} already exists",
                field="contract_id",
                code="already_exists",
                rule="contract.exists",
            )
        return _answer(outcome.contract_id, outcome.result)

    async def command(
        self,
        actor: Actor,
        kind: str,
        params: dict[str, str],
        body: Any | Callable[[], Awaitable[Any]],
        key: str | None = None,
    ) -> Answer:
        """One operator command: ``params`` are the route's (contract_id, action_id…), ``body`` what was sent (or
        how to read it). Role and scope first: a caller who may not act learns nothing from the shape of its body,
        nor is it even read."""
        with counted(kind if kind in FROM_PATH else "unknown"):
            return await self._command(actor, kind, params, body, key)

    async def check(self, actor: Actor, kind: str, params: dict[str, str], body: Any, key: str | None = None) -> None:
        """Raise the refusal ``command`` would meet now (role, scope, schema, the contract's rules), writing nothing:
        what a person is told before confirming an irreversible act."""
        command = await self._built(actor, kind, params, body, key)
        await operations.check_command(self.client, command)

    async def _command(
        self,
        actor: Actor,
        kind: str,
        params: dict[str, str],
        body: Any | Callable[[], Awaitable[Any]],
        key: str | None,
    ) -> Answer:
        command = await self._built(actor, kind, params, body, key)
        return _answer(command.contract_id, await operations.send_command(self.client, command, store=self.store))

    async def _built(
        self,
        actor: Actor,
        kind: str,
        params: dict[str, str],
        body: Any | Callable[[], Awaitable[Any]],
        key: str | None,
    ) -> Command:
        for name, value in params.items():
            if not 0 < len(value) <= 64:  # what the schema declares for every path parameter
                raise DomainError(
                    f"{name}: 1 to 64 characters",
                    field=name,
                    code="invalid_value",
                    rule="text.length",
                    params={"limit": 64},
                )
        contract_id = params["contract_id"]
        authorize(kind, actor, contract_id)
        if callable(body):
            body = await body()
        fields = command_body_models()[kind].model_validate(body).model_dump(mode="python")
        for name in FROM_PATH[kind]:
            fields[name] = params[name]
        if kind == "ChangeAction" and fields["action"].get("action_id") != params.get("action_id"):
            raise DomainError(
                "action.action_id: must match the path",
                field="action.action_id",
                code="invalid_value",
                rule="action.id_mismatch",
            )
        now = datetime.now(UTC)
        at = business_time(fields.pop("occurred_at", None), now)
        command = with_request_id(
            COMMAND_ADAPTER.validate_python(
                {
                    **fields,
                    "type": kind,
                    "contract_id": contract_id,
                    "actor": actor,
                    "request_id": str(uuid.uuid4()),
                    "at": at,
                    "entered_at": now,
                }
            ),
            key,
        )
        return command

    async def import_file(self, actor: Actor, data: bytes | str, *, dry_run: bool = False) -> ImportReport:
        """Reprise de l'existant: contracts under way, each with its whole history, recorded in one go per contract
        (all or nothing). A préfet imports the contracts of his départements; the same file again changes nothing.
        ``dry_run``: each contract decided exactly as the import would decide it, and nothing recorded (no event, no
        workflow started): the report says what the import would do."""
        if actor.role is not Role.PREFET:
            raise Forbidden(
                "actor.role: contracts under way are taken over by a préfet",
                field="actor.role",
                rule="role.prefet_only",
            )
        text = data.decode("utf-8", errors="strict") if isinstance(data, bytes) else data
        outcomes = [
            await self._import_one(actor, contract_id, raw_lines, dry_run)
            for contract_id, raw_lines in reprise_file.group_lines(text).items()
        ]
        return ImportReport(
            imported=sum(o.outcome == "imported" for o in outcomes),
            unchanged=sum(o.outcome == "unchanged" for o in outcomes),
            refused=sum(o.outcome == "refused" for o in outcomes),
            contracts=outcomes,
            dry_run=dry_run,
        )

    async def _import_one(
        self, actor: Actor, contract_id: str, raw_lines: list[tuple[int, Any]], dry_run: bool = False
    ) -> ImportOutcome:
        try:
            territory = contract_territory(contract_id)
            check_territory_scope(actor, territory)
            now = datetime.now(UTC)
            lines = tuple(parse_line(raw, n, actor, now, territory) for n, raw in raw_lines)
            outcome = await operations.import_contract(
                self.client,
                self.settings.task_queue,
                contract_id,
                lines,
                store=self.store,
                search_attributes=self.settings.temporal_search_attributes,
                dry_run=dry_run,
            )
        except DomainError as error:
            if error.code in ("timeout", "store_unavailable", "outcome_unknown"):
                raise  # not this contract's refusal: Temporal or the store did not answer; the same file again is safe
            return ImportOutcome(
                contract_id=contract_id,
                outcome="refused",
                line=getattr(error, "line", None),
                code=error.code,
                field=error.field,
                message=error.message,
                rule=error.rule,
                params=error.params,
            )
        return ImportOutcome(
            contract_id=contract_id,
            outcome="imported" if outcome.events else "unchanged",
            version=outcome.version,
            events=outcome.events,
        )

    # -- reading ---------------------------------------------------------------------------------------------------

    async def list_contracts(self, actor: Actor) -> list[dict[str, Any]]:
        """The contracts the actor may read, from the read model (one row each)."""
        rows = await self.store.pool.fetch(f"SELECT {SUMMARY_COLUMNS} FROM contract_summary ORDER BY contract_id")
        return readable(actor, rows)

    async def summaries(self, actor: Actor) -> list[dict[str, Any]]:
        """The contracts the actor may read, each with its read-model state (missed deadlines, money, years)."""
        rows = await self.store.pool.fetch(
            f"SELECT {SUMMARY_COLUMNS}, state FROM contract_summary ORDER BY territory_name, contract_id"
        )
        visible = readable(actor, rows)
        for item in visible:
            item["state"] = json.loads(item["state"]) if isinstance(item["state"], str) else item["state"]
        return visible

    async def search_contracts(self, actor: Actor, query: search.ContractQuery) -> search.ContractPage:
        """The contract list filtered, sorted and paged by keyset from the read model (pacte/service/search.py)."""
        return await search.find(self.store.pool, actor, query, policy_now())

    async def dashboard(self, actor: Actor) -> Dashboard:
        """The figures of the contracts the actor may read: a préfet's départements, a commissaire's région, a
        collectivité's own contract, the whole programme for an auditor. Who runs Pacte reads no contract."""
        if actor.role is Role.ADMIN:
            raise Forbidden(
                "actor.role: the dashboard is for those who follow contracts, not for an administrator",
                field="actor.role",
                rule="role.dashboard",
            )
        return figures(await self.summaries(actor), policy_now(), datetime.now(PARIS).date())

    async def to_do(self, actor: Actor) -> list[ContractState]:
        """The states of the contracts within the actor's scope, for the acts waiting for them (pacte.web.todo)."""
        return [ContractState.model_validate(row["state"]) for row in await self.summaries(actor)]

    async def contract(self, actor: Actor, contract_id: str) -> ContractState:
        may_read(actor, contract_id)
        return await operations.current_state(self.client, contract_id)

    async def accounting_extract(self, actor: Actor, data: bytes | str, dry_run: bool) -> list[PlannedLine]:
        """A Chorus accounting extract (domain/chorus.py): each line matched to a contract of the préfet's scope and
        recorded as a commitment or a payment by the contract's rules — or, in a dry run, decided without recording —
        each line's outcome reported: recorded (would_record), unchanged (already recorded), refused or unmatched,
        with its reason. Keyed by (EJ, line, document): the same file twice changes nothing."""
        if actor.role is not Role.PREFET:
            raise Forbidden(
                "actor.role: an accounting extract is imported by a préfet", field="actor.role", rule="role.prefet_only"
            )
        text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
        lines, problems = parse_extract(text)
        states = {
            s.contract_id: s for s in (ContractState.model_validate(r["state"]) for r in await self.summaries(actor))
        }
        planned = plan(lines, states)
        fresh: set[str] = set()
        policy, now = policy_now(), datetime.now(UTC)
        instalments = [(i.name, i.after) for i in DEFAULT_POLICY.instalments]
        outcomes = list(problems)
        for item in planned:
            if item.outcome != "planned" or item.contract_id is None or item.kind is None or item.day is None:
                outcomes.append(item)
                continue
            cid = item.contract_id
            if cid not in fresh:  # the read model may lag: decide on the workflow's own state
                states[cid] = await self.contract(actor, cid)
                fresh.add(cid)
            state, fields = states[cid], dict(item.fields)
            if item.kind == "RecordPayment":
                known = state.commitment(fields["ej_number"])
                fields["instalment"] = instalment_for(state, known[0] if known else item.day.year, instalments)
            try:
                if dry_run:
                    command = COMMAND_ADAPTER.validate_python(
                        {
                            **fields,
                            "type": item.kind,
                            "contract_id": cid,
                            "actor": actor,
                            "request_id": item.key,
                            "at": business_time(item.day, now),
                            "entered_at": now,
                        }
                    )
                    states[cid] = fold(decide(command, state, policy), state)
                    outcomes.append(item.model_copy(update={"outcome": "would_record", "fields": fields}))
                else:
                    answer = await self.command(
                        actor, item.kind, {"contract_id": cid}, {**fields, "occurred_at": item.day}, key=item.key
                    )
                    states[cid] = answer.state
                    outcomes.append(item.model_copy(update={"outcome": "recorded", "fields": fields}))
            except DomainError as exc:
                outcomes.append(item.model_copy(update={"outcome": "refused", "reason": exc.message, "fields": fields}))
            except ValidationError as exc:
                reason = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
                outcomes.append(item.model_copy(update={"outcome": "refused", "reason": reason, "fields": fields}))
        return sorted(outcomes, key=lambda o: o.line)

    async def money_trail(self, actor: Actor, contract_id: str) -> list[YearTrail]:
        """The contract's money trail, year by year, and the gaps between its figures (domain/money_trail.py)."""
        return trail(await self.contract(actor, contract_id))

    async def deadlines(self, actor: Actor, contract_id: str) -> list[Deadline]:
        may_read(actor, contract_id)
        try:
            pending: list[Deadline] = await operations.bounded(
                operations.handle(self.client, contract_id).query(ContractWorkflow.pending_deadlines),
                contract_id,
                "read",
            )
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                raise operations.ContractNotFound(contract_id) from exc
            raise
        return pending

    async def avenants(self, actor: Actor, contract_id: str) -> dict[str, AvenantChanges]:
        """Each avenant as what it changed (concluded) or would change (still to sign), from the contract's facts."""
        may_read(actor, contract_id)
        events = await operations.history(self.store, contract_id)
        return avenants_changes(parse_event(e.payload) for e in events)

    async def reminders(self, actor: Actor, contract_id: str | None = None) -> list[dict[str, Any]]:
        return readable(actor, await self.store.list_reminders(contract_id))

    async def timeline(self, actor: Actor, contract_id: str, live_version: int | None = None) -> list[TimelineEntry]:
        """The facts in order; ``live_version`` (the workflow's, when the caller has it) must not be past the stream."""
        may_read(actor, contract_id)
        events = await operations.history(self.store, contract_id, live_version=live_version)
        return [TimelineEntry(**entry) for entry in audit.timeline(events, DEFAULT_POLICY)]

    async def as_of(self, actor: Actor, contract_id: str, day: Day, known_at: When | None = None) -> ContractState:
        """What was true on ``day`` (business time), as known now or as known at ``known_at`` (record time)."""
        may_read(actor, contract_id)
        events = await operations.history(self.store, contract_id)
        known = None
        if known_at is not None:
            moment = known_at if isinstance(known_at, datetime) else end_of_day(known_at)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=PARIS)
            known = sum(1 for e in events if e.recorded_at <= moment)
        return state_as_of([parse_event(e.payload) for e in events], day, known)

    async def changes(self, actor: Actor, contract_id: str, start: Day, end: Day) -> dict[str, Any]:
        """What changed between two business dates, and why: each fact in between says whether it is a new fact,
        a fact recorded late, a rectification, a withdrawal or the calendar's; facts of before ``start`` recorded
        after it (late records, corrections) are listed apart, since they changed what was known of ``start``."""
        may_read(actor, contract_id)
        recorded = await operations.history(self.store, contract_id)
        why = explain([parse_event(e.payload) for e in recorded], start, end)
        kinds = audit.kinds(recorded, DEFAULT_POLICY)
        between = [e for e in recorded if why.start < e.occurred_at <= why.end]
        revised = [e for e in recorded if e.occurred_at <= why.start < e.recorded_at]
        return {
            "start": why.start,
            "end": why.end,
            "events": [e.payload | {"version": e.version, "why": kinds[e.version]} for e in between],
            "changes": [c.model_dump(mode="json") for c in why.changes],
            "revisions_of_start": [e.payload | {"version": e.version, "why": kinds[e.version]} for e in revised],
            "from_late_records_or_corrections": any(
                kinds[e.version] != "new_fact" and kinds[e.version] != "calendar" for e in [*between, *revised]
            ),
        }

    # -- audit -----------------------------------------------------------------------------------------------------

    async def verify(self, actor: Actor, anchor: Anchor | None = None) -> VerifyReport:
        auditor_only(actor)
        async with self.store.pool.acquire() as conn:
            report = (
                await verify(conn)
                if anchor is None
                else await verify(conn, anchor, self.settings.anchor_key_for(anchor.key_id))
            )
        metrics.VERIFY_RUNS.labels("intact" if report.ok else "tampered").inc()
        return report

    async def metrics(self) -> bytes:
        """Prometheus' text: the gauges read from the read models now, then every counter of this process."""
        async with self.store.pool.acquire() as conn:
            by_status = await conn.fetch("SELECT status, count(*) AS n FROM contract_summary GROUP BY status")
            pending = await conn.fetchval("SELECT count(*) FROM reminders WHERE sent_at IS NULL")
        metrics.CONTRACTS.clear()
        for row in by_status:
            metrics.CONTRACTS.labels(row["status"]).set(row["n"])
        metrics.REMINDERS_PENDING.set(pending)
        return await metrics.exposition()

    async def anchor(self, actor: Actor) -> Anchor:
        auditor_only(actor)
        async with self.store.pool.acquire() as conn:
            key_id, key = self.settings.anchor_signing_key()
            return await take_anchor(conn, key, key_id)

    async def cross_check(self, actor: Actor) -> CrossCheck:
        """Each live workflow's state against the fold of its stored stream: any difference is reported."""
        auditor_only(actor)
        # Live states asked concurrently (a few at a time): a contract whose workflow does not answer costs its
        # deadline once, not once per contract after it.
        gate = asyncio.Semaphore(16)

        async def live_state(contract_id: str) -> ContractState | str:
            async with gate:
                try:
                    return await operations.current_state(self.client, contract_id)
                except operations.ContractNotFound:
                    return "no workflow"
                except DomainError as error:  # its workflow did not answer in time (no worker on its queue, say)
                    if error.code != "timeout":
                        raise
                    return "no answer"

        ids = [contract_id for contract_id, _ in await self.store.list_streams("cls")]
        lives = await asyncio.gather(*(live_state(contract_id) for contract_id in ids))
        differences: list[dict[str, Any]] = []
        checked = 0
        for contract_id, live in zip(ids, lives, strict=True):
            if isinstance(live, str):
                differences.append({"contract_id": contract_id, "difference": live})
                continue
            checked += 1
            try:
                folded = operations.fold_stored(contract_id, await self.store.read_stream(contract_id))
                if folded.version != live.version:
                    raise operations.store_diverged(
                        contract_id, f"the stream is at version {folded.version}, its workflow at {live.version}"
                    )
            except DomainError as error:
                if error.code != "store_diverged":
                    raise
                differences.append(
                    {"contract_id": contract_id, "difference": "store_diverged", "detail": error.message}
                )
                continue
            a, b = live.model_dump(mode="json"), folded.model_dump(mode="json")
            fields = sorted(k for k in a if a[k] != b[k])
            if fields:
                differences.append({"contract_id": contract_id, "fields": fields})
        return CrossCheck(checked=checked, differences=differences, ok=not differences)

    async def export(self, actor: Actor, contract_id: str | None = None) -> Export:
        """The events as rows, streamed in short keyset pages up to a position recorded now (the store as it
        stands at the request: appends during the download are not mixed in). Checked before anything is sent."""
        auditor_only(actor)
        if contract_id is not None and not re.fullmatch(CONTRACT_ID_PATTERN, contract_id):
            raise DomainError(
                "contract_id: not a contract id", field="contract_id", code="invalid_value", rule="contract.bad_id"
            )
        if contract_id is not None:
            version = await self.store.stream_version(contract_id)
            return Export(f"{contract_id}@{version}", _rows(self.store.export_stream(contract_id, version)))
        head = await self.store.head()
        return Export(head.token, _rows(self.store.export_all(head)))

    # -- campaigns -------------------------------------------------------------------------------------------------

    async def start_campaign(self, actor: Actor, body: CampaignBody, key: str | None = None) -> CampaignProgress:
        check_role("ProposeContract", actor)
        # Every territory is checked here, so a campaign never starts with proposals the domain would refuse.
        for i, territory_id in enumerate(body.territories):
            territory = REFERENCE_TERRITORIES.get(territory_id)
            if territory is None:
                raise DomainError(
                    f"territories.{i}: unknown territory {territory_id[:30]!r}",
                    field=f"territories.{i}",
                    code="invalid_value",
                    rule="territory.unknown",
                    params={"territory": territory_id[:30]},
                )
            check_territory_scope(actor, territory)
        if len(set(body.territories)) != len(body.territories):
            raise DomainError(
                "territories: a territory is listed twice",
                field="territories",
                code="invalid_value",
                rule="territory.listed_twice",
            )
        for territory_id in body.ceilings:
            if territory_id not in body.territories:
                raise DomainError(
                    f"ceilings.{territory_id[:30]}: not one of the campaign's territories",
                    field=f"ceilings.{territory_id[:30]}",
                    code="invalid_value",
                    rule="campaign.ceiling_not_listed",
                )
        # Namespaced by who starts it: two préfets' keys never meet, and nobody can guess another's campaign id.
        owner = hashlib.sha256(actor.identity.encode()).hexdigest()[:10]
        campaign_id = f"campaign-{owner}-{key or uuid.uuid4().hex[:12]}"
        # What the campaign asks, by whom: starting it again with the same key must ask the same.
        asked = keyed_request_id(campaign_id, body.model_dump(mode="json") | {"actor": actor.model_dump(mode="json")})
        try:
            await operations.bounded(
                self.client.start_workflow(
                    CampaignWorkflow.run,
                    CampaignInput(
                        campaign_id=campaign_id,
                        territories=tuple(body.territories),
                        annual_ceiling=body.annual_ceiling,
                        ceilings=body.ceilings,
                        actor=actor,
                        request_prefix=campaign_id,
                        at=datetime.now(UTC),
                        search_attributes=self.settings.temporal_search_attributes,
                    ),
                    id=campaign_id,
                    task_queue=self.settings.task_queue,
                    memo={"asked": asked, "territories": list(body.territories)},
                    id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                ),
                campaign_id,
                "start",
            )
        except WorkflowAlreadyStartedError:
            described = await operations.bounded(
                self.client.get_workflow_handle(campaign_id).describe(), campaign_id, "read"
            )
            first = await described.memo()
            if first.get("asked") != asked:
                raise DomainError(
                    f"Idempotency-Key: campaign {campaign_id} was started with a different request; a retry must "
                    "repeat the same request, a new campaign needs a new key",
                    field="request_id",
                    code="idempotency_key_reused",
                    rule="request.key_reused",
                ) from None
        return CampaignProgress(campaign_id=campaign_id, territories=list(body.territories))

    async def campaign(self, actor: Actor, campaign_id: str) -> CampaignProgress:
        if actor.role not in (Role.PREFET, Role.AUDITOR):
            raise Forbidden(
                "actor.role: campaigns are followed by préfets and auditors", field="actor.role", rule="role.campaigns"
            )
        missing = DomainError(
            f"campaign_id: no campaign {campaign_id[:80]}",
            field="campaign_id",
            code="not_found",
            rule="campaign.unknown",
        )
        if not campaign_id.startswith("campaign-"):
            raise missing  # a contract's id (or anything else) is not a campaign
        handle = self.client.get_workflow_handle(campaign_id)
        try:
            described = await operations.bounded(handle.describe(), campaign_id, "read")
            if described.workflow_type != "CampaignWorkflow":
                raise missing
            territories = (await described.memo()).get("territories", [])
            if actor.role is Role.PREFET:  # a préfet reads the campaigns of his territories only
                for territory_id in territories:  # checked when the campaign started: all known
                    check_territory_scope(actor, REFERENCE_TERRITORIES[territory_id])
            progress: CampaignProgress = await operations.bounded(
                handle.query(CampaignWorkflow.progress), campaign_id, "read"
            )
            return progress
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                raise missing from exc
            raise


@dataclass(frozen=True)
class Export:
    position: str  # up to where: "<tx>.<global position>" for the store, "<contract>@<version>" for one contract
    rows: AsyncIterator[dict[str, Any]]


async def _rows(events: AsyncIterator[RecordedEvent]) -> AsyncIterator[dict[str, Any]]:
    async for event in events:
        yield event.model_dump(mode="json", exclude={"prev_hash", "hash"}) | {"hash": event.hash.hex()}
