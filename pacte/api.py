"""The HTTP API (FastAPI; OpenAPI at /docs): every domain command as an operation on a contract resource, audits,
exports, campaigns. Callers authenticate with a bearer token (PACTE_TOKENS_FILE); the API checks role and scope before
anything reaches a workflow, and the domain checks again. Money is in integer euro cents.
"""

import csv
import hashlib
import io
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Header, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.actors import Actor, Role
from domain.authorization import check_role, check_territory_scope
from domain.business_time import PARIS, Day, When, end_of_day, occurred_at
from domain.commands import COMMAND_ADAPTER, ProposeContract
from domain.deadlines import Deadline
from domain.errors import DomainError, Forbidden
from domain.evolve import fold
from domain.messages import SOURCE, CommandBase
from domain.money import Cents
from domain.policy import DEFAULT_POLICY
from domain.reprise import parse_line
from domain.request_log import keyed_request_id
from domain.state import ContractState
from domain.territories import CONTRACT_ID_PATTERN, REFERENCE_TERRITORIES, Territory, attempt_of, contract_id_for
from domain.timetravel import explain, state_as_of
from domain.upcasting import parse_event
from domain.values import Action
from eventstore.integrity import Anchor, VerifyReport, take_anchor, verify
from eventstore.store import EventStore
from pacte import audit, reprise_file, service, tokens
from pacte.runtime import connect_temporal, open_store
from pacte.settings import Settings, get_settings
from workflows.campaign import CampaignWorkflow
from workflows.contract import ContractWorkflow
from workflows.models import CampaignInput, CampaignProgress, CommandResult

MAX_BODY_BYTES = 256 * 1024
CommandT = TypeVar("CommandT", bound=CommandBase)
BASE_FIELDS = {"type", "schema_version", "contract_id", "actor", "request_id", "at", "entered_at", "recorded_by"}
MAX_IMPORT_BYTES = 8 * 1024 * 1024
# A contract id in a query: the same pattern as in commands, so nothing unstorable (a NUL) reaches the database.
CONTRACT_QUERY = Query(default=None, pattern=CONTRACT_ID_PATTERN)
CONTRACT_BY_ID: dict[str, Territory] = {contract_id_for(t.id): t for t in REFERENCE_TERRITORIES.values()}
UNAUTHORIZED = {"code": "unauthorized", "message": "missing, invalid or expired credentials", "field": None}

# (method, path, command type, path parameters that fill command fields)
COMMAND_ROUTES: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("POST", "/contracts/{contract_id}/actions", "AddAction", ()),
    ("PUT", "/contracts/{contract_id}/actions/{action_id}", "ChangeAction", ()),
    ("DELETE", "/contracts/{contract_id}/actions/{action_id}", "RemoveAction", ("action_id",)),
    ("POST", "/contracts/{contract_id}/deliberation", "RecordDeliberation", ()),
    ("POST", "/contracts/{contract_id}/signatures", "SignContract", ()),
    ("POST", "/contracts/{contract_id}/committee-reviews", "RecordCommitteeReview", ()),
    ("POST", "/contracts/{contract_id}/renewals", "Renew", ()),
    ("POST", "/contracts/{contract_id}/amendments", "Amend", ()),
    ("POST", "/contracts/{contract_id}/avenants/{avenant_id}/signatures", "SignAvenant", ("avenant_id",)),
    ("POST", "/contracts/{contract_id}/execution-reports", "SubmitExecutionReport", ()),
    ("POST", "/contracts/{contract_id}/mid-term-evaluation", "RecordMidTermEvaluation", ()),
    ("POST", "/contracts/{contract_id}/suspension", "Suspend", ()),
    ("POST", "/contracts/{contract_id}/resumption", "Resume", ()),
    ("POST", "/contracts/{contract_id}/termination", "Terminate", ()),
    ("POST", "/contracts/{contract_id}/closing", "CloseContract", ()),
    ("POST", "/contracts/{contract_id}/rectifications/execution-report", "RectifyExecutionReport", ()),
    ("POST", "/contracts/{contract_id}/rectifications/signature", "RectifySignature", ()),
]


def _command_classes() -> dict[str, type[BaseModel]]:
    from domain import commands

    return {name: getattr(commands, name) for _, _, name, _ in COMMAND_ROUTES}


OCCURRED_AT = Field(
    default=None,
    description="When the fact happened (business time): an ISO date (that day in Europe/Paris) or date-time. "
    "Default: now. Refused if in the future, before the programme, or inconsistent with the facts it follows.",
)


def body_model(kind: str, cls: type[BaseModel], from_path: tuple[str, ...]) -> type[BaseModel]:
    fields: dict[str, Any] = {
        name: (field.annotation, field)
        for name, field in cls.model_fields.items()
        if name not in BASE_FIELDS and name not in from_path
    }
    fields["occurred_at"] = (When | None, OCCURRED_AT)
    return create_model(f"{kind}Body", __config__=ConfigDict(extra="forbid"), **fields)


def business_time(value: date | datetime | None, now: datetime) -> datetime:
    """The business time of a command: the ``occurred_at`` given, or now."""
    return now if value is None else occurred_at(value, now)


def command_body_models() -> dict[str, type[BaseModel]]:
    """The request body of every command operation, by command type (what the OpenAPI schema publishes)."""
    classes = _command_classes()
    return {kind: body_model(kind, classes[kind], from_path) for _, _, kind, from_path in COMMAND_ROUTES}


class ProposeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    territory: str = Field(max_length=20, description="SIREN of a métropole, or D + INSEE code of a département")
    annual_ceiling: Cents = Field(description="Annual ceiling in euro cents")
    draft_actions: tuple[Action, ...] = ()
    occurred_at: When | None = OCCURRED_AT
    source: str | None = SOURCE


class CampaignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    territories: list[str] = Field(min_length=1, max_length=200)
    annual_ceiling: Cents = Field(description="Euro cents, for every territory")
    ceilings: dict[str, Cents] = Field(default_factory=dict, description="Euro cents per territory, overriding")


class Answer(BaseModel):
    """What every command answers: what changed (the events it recorded) and the new state."""

    contract_id: str
    version: int
    events: list[dict[str, Any]]
    state: ContractState


class TimelineEntry(BaseModel):
    """One fact, on both time axes: when it happened (business) and when Pacte learned it (record), who did it and
    who entered it, where it comes from, and whether it was recorded late, rectified or withdrawn since."""

    version: int
    event_type: str
    role: str
    identity: str
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str | None = Field(description="Who entered the fact, when not the party that did it")
    source: str | None = Field(description="The document the fact comes from")
    imported: bool = Field(description="Taken over from an import file (reprise de l'existant)")
    late_by_days: int | None = Field(description="Days between the fact and its record, past the policy's threshold")
    withdrawn_by: int | None = Field(description="Version of the compensating fact that withdrew this one")
    rectified_by: list[int] = Field(description="Versions of the facts that rectified this one")
    payload: dict[str, Any]


class ImportOutcome(BaseModel):
    contract_id: str
    outcome: str = Field(description="imported, unchanged (the same file again) or refused")
    version: int | None = None
    events: int = 0
    line: int | None = Field(default=None, description="The line of the file refused (1-based)")
    code: str | None = None
    field: str | None = None
    message: str | None = None


class ImportReport(BaseModel):
    imported: int
    unchanged: int
    refused: int
    contracts: list[ImportOutcome]


class JSONLinesResponse(StreamingResponse):
    media_type = "application/x-ndjson"


class CSVResponse(StreamingResponse):
    media_type = "text/csv"


class Problem(BaseModel):
    code: str
    message: str
    field: str | None


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such contract"}}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing, invalid or expired token"},
    403: {"model": Problem, "description": "Role or scope does not allow it"},
    413: {"model": Problem, "description": f"Request body over {MAX_BODY_BYTES} bytes"},
    422: {"model": Problem, "description": "Invalid input: `field` names the field, `message` the rule"},
}
# FastAPI documents extra answers in the success's media type; an export's refusals are JSON all the same.
EXPORT_PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {
        "description": answer["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for code, answer in PROBLEMS.items()
}


def with_request_id(command: CommandT, key: str | None) -> CommandT:
    """Without an Idempotency-Key a command keeps its fresh request id; with one, its request id is the key plus a
    digest of what it asks, so a retry is recognised and a key reused for a different command is refused."""
    if not key:
        return command
    content = command.model_dump(mode="json", exclude={"request_id", "at", "entered_at"})
    return command.model_copy(update={"request_id": keyed_request_id(key, content)})


def status_for(error: DomainError) -> int:
    if error.code == "not_found":
        return 404
    if error.code in ("forbidden", "out_of_scope"):
        return 403
    if error.code in ("already_exists", "lifecycle_violation", "concurrency", "idempotency_key_reused"):
        return 409
    if error.code in ("timeout", "store_unavailable"):
        return 503
    return 422


class BodyLimit:
    """Refuses request bodies over MAX_BODY_BYTES, whether or not they announce their length."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]], send: Any
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        limit = MAX_IMPORT_BYTES if scope["path"] == "/imports" else MAX_BODY_BYTES  # a file of many contracts
        too_big = JSONResponse({"code": "too_large", "message": f"request body over {limit} bytes", "field": None}, 413)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await too_big(scope, receive, send)
            return
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise ValueError("request body too large")
            return message

        await self.app(scope, counted, send)


class Authenticate:
    """Authenticates the bearer token before anything else reads the request: a caller without a valid token gets
    the same 401 whatever it sent (a body that is not JSON, an unknown route), so it learns nothing of the API."""

    PUBLIC = frozenset({"/health", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})

    def __init__(self, app: Any, tokens_path: Callable[[], Any]) -> None:
        self.app = app
        self.tokens_path = tokens_path

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]], send: Any
    ) -> None:
        if scope["type"] != "http" or scope["path"] in self.PUBLIC:
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        scheme, _, presented = header.partition(" ")
        presented = presented.strip()
        actor = None
        if scheme.lower() == "bearer" and 0 < len(presented) <= 200:
            actor = tokens.authenticate(tokens.load(self.tokens_path()), presented, datetime.now(UTC))
        if actor is None:
            await JSONResponse(UNAUTHORIZED, 401, headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        scope.setdefault("state", {})["actor"] = actor
        await self.app(scope, receive, send)


def create_app(
    settings: Settings | None = None, *, client: Client | None = None, store: EventStore | None = None
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if client is not None and store is not None:
            app.state.client, app.state.store = client, store
            yield
            return
        async with open_store(settings) as opened:
            app.state.store = opened
            app.state.client = await connect_temporal(settings, attempts=20)
            yield

    app = FastAPI(
        title="Pacte — contrats locaux des solidarités 2024–2027",
        version="0.2.0",
        lifespan=lifespan,
        # Every refusal is the same JSON problem; documenting it on every operation keeps the schema honest.
        responses=PROBLEMS,
    )
    app.add_middleware(BodyLimit)
    app.add_middleware(Authenticate, tokens_path=settings.tokens_path)  # added last, so it runs first
    bearer = HTTPBearer(auto_error=False, description="A token issued by `pacte tokens add` (or `pacte dev`)")

    def current_actor(request: Request, _: HTTPAuthorizationCredentials | None = Security(bearer)) -> Actor:
        # Authenticate has already checked the token; the Security parameter puts the scheme in the OpenAPI schema.
        actor: Actor = request.state.actor
        return actor

    def contract_territory(contract_id: str) -> Territory:
        territory = CONTRACT_BY_ID.get(attempt_of(contract_id)[0])
        if territory is None:
            raise DomainError(f"contract_id: no contract {contract_id}", field="contract_id", code="not_found")
        return territory

    def may_read(actor: Actor, contract_id: str) -> None:
        territory = contract_territory(contract_id)
        if actor.role is not Role.AUDITOR:
            check_territory_scope(actor, territory)

    def auditor_only(actor: Actor) -> None:
        if actor.role is not Role.AUDITOR:
            raise Forbidden("actor.role: audits and exports are for auditors", field="actor.role")

    @app.exception_handler(DomainError)
    async def refused(_: Request, error: DomainError) -> JSONResponse:
        return JSONResponse(error.to_dict(), status_code=status_for(error))

    @app.exception_handler(service.ContractNotFound)
    async def not_found(_: Request, error: service.ContractNotFound) -> JSONResponse:
        return JSONResponse(
            {"code": "not_found", "message": f"no contract {error.contract_id}", "field": "contract_id"}, 404
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(_: Request, error: StarletteHTTPException) -> JSONResponse:
        # FastAPI's own refusals (a body that is not JSON, an unknown route or method) get the same problem shape.
        if error.status_code == 400:
            return JSONResponse({"code": "invalid_value", "message": "body: not valid JSON", "field": "body"}, 422)
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return JSONResponse(
            {"code": code, "message": str(error.detail), "field": None}, error.status_code, headers=error.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header"))
        return JSONResponse(
            {"code": "invalid_value", "message": f"{field or 'request'}: {first['msg']}", "field": field or None}, 422
        )

    @app.exception_handler(ValidationError)
    async def invalid_model(_: Request, error: ValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid value"}
        field = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(
            {"code": "invalid_value", "message": f"{field or 'body'}: {first['msg']}", "field": field or None}, 422
        )

    @app.exception_handler(RecursionError)
    async def too_deep(_: Request, error: RecursionError) -> JSONResponse:
        # A body nested thousands of levels deep: a problem like any other, never a dropped connection.
        return JSONResponse({"code": "invalid_value", "message": "body: nested too deeply", "field": "body"}, 422)

    @app.exception_handler(ValueError)
    async def bad_value(_: Request, error: ValueError) -> JSONResponse:
        if "too large" in str(error):
            return JSONResponse(
                {"code": "too_large", "message": f"request body over {MAX_BODY_BYTES} bytes", "field": None}, 413
            )
        return JSONResponse({"code": "invalid_value", "message": str(error)[:500], "field": None}, 422)

    def authorize(kind: str, actor: Actor, contract_id: str) -> None:
        """Role and scope, checked before any workflow is reached; the domain checks again."""
        check_role(kind, actor)
        territory = contract_territory(contract_id)
        check_territory_scope(actor, territory)

    async def execute(request: Request, actor: Actor, command_fields: dict[str, Any], key: str | None) -> Answer:
        contract_id = command_fields["contract_id"]
        authorize(command_fields["type"], actor, contract_id)
        now = datetime.now(UTC)
        at = business_time(command_fields.pop("occurred_at", None), now)
        command = with_request_id(
            COMMAND_ADAPTER.validate_python(
                {**command_fields, "actor": actor, "request_id": str(uuid.uuid4()), "at": at, "entered_at": now}
            ),
            key,
        )
        result: CommandResult = await service.send_command(request.app.state.client, command)
        return Answer(contract_id=contract_id, version=result.version, events=result.events, state=result.state)

    @app.get("/health", tags=["service"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/territories", response_model=list[Territory], tags=["reference"])
    async def territories(actor: Actor = Depends(current_actor)) -> list[Territory]:
        return sorted(REFERENCE_TERRITORIES.values(), key=lambda t: t.id)

    @app.post(
        "/contracts",
        response_model=Answer,
        status_code=201,
        tags=["contracts"],
        responses={409: {"model": Problem}},
    )
    async def propose(
        body: ProposeBody,
        request: Request,
        actor: Actor = Depends(current_actor),
        idempotency_key: str | None = Header(default=None, max_length=200),
    ) -> Answer:
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
            idempotency_key,
        )
        outcome = await service.propose(
            request.app.state.client, settings.task_queue, command, store=request.app.state.store
        )
        if not outcome.created or outcome.result is None:
            raise DomainError(
                f"contract_id: {outcome.contract_id} already exists", field="contract_id", code="already_exists"
            )
        return Answer(
            contract_id=outcome.contract_id,
            version=outcome.result.version,
            events=outcome.result.events,
            state=outcome.result.state,
        )

    models = command_body_models()
    for method, path, kind, from_path in COMMAND_ROUTES:
        model = models[kind]

        def make(kind: str = kind, from_path: tuple[str, ...] = from_path, model: type[BaseModel] = model) -> Any:
            async def endpoint(
                request: Request,
                actor: Actor = Depends(current_actor),
                idempotency_key: str | None = Header(default=None, max_length=200),
            ) -> Answer:
                params = request.path_params
                for name, value in params.items():
                    if not 0 < len(value) <= 64:  # what the schema declares for every path parameter
                        raise DomainError(f"{name}: 1 to 64 characters", field=name, code="invalid_value")
                # Role and scope first: a caller who may not act learns nothing from the shape of its body.
                authorize(kind, actor, params["contract_id"])
                try:
                    raw = await request.json()
                except (json.JSONDecodeError, UnicodeDecodeError):
                    raise DomainError("body: not valid JSON", field="body", code="invalid_value") from None
                fields = model.model_validate(raw).model_dump(mode="python")
                for name in from_path:
                    fields[name] = params[name]
                if kind == "ChangeAction" and fields["action"].get("action_id") != params["action_id"]:
                    raise DomainError(
                        "action.action_id: must match the path", field="action.action_id", code="invalid_value"
                    )
                return await execute(
                    request, actor, {"type": kind, "contract_id": params["contract_id"], **fields}, idempotency_key
                )

            endpoint.__name__ = f"command_{kind}"
            return endpoint

        app.add_api_route(
            path,
            make(),
            methods=[method],
            response_model=Answer,
            tags=["contracts"],
            summary=kind,
            openapi_extra={
                # The endpoint reads its path through the request, so the parameters are declared here.
                "parameters": [
                    {
                        "name": name,
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 64},
                    }
                    for name in re.findall(r"{(\w+)}", path)
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": model.model_json_schema(ref_template="#/components/schemas/{model}")
                        }
                    },
                },
            },
            responses={404: {"model": Problem}, 409: {"model": Problem}},
        )

    @app.get("/contracts", tags=["contracts"])
    async def list_contracts(request: Request, actor: Actor = Depends(current_actor)) -> list[dict[str, Any]]:
        rows = await request.app.state.store.pool.fetch(
            "SELECT contract_id, territory_id, territory_name, kind, region, status, current_year, annual_ceiling, version FROM contract_summary ORDER BY contract_id"
        )
        out = []
        for row in rows:
            try:
                may_read(actor, row["contract_id"])
            except DomainError:
                continue
            out.append(dict(row))
        return out

    @app.get("/contracts/{contract_id}", response_model=ContractState, responses=NOT_FOUND, tags=["contracts"])
    async def show(contract_id: str, request: Request, actor: Actor = Depends(current_actor)) -> ContractState:
        may_read(actor, contract_id)
        return await service.current_state(request.app.state.client, contract_id)

    @app.get(
        "/contracts/{contract_id}/deadlines", response_model=list[Deadline], responses=NOT_FOUND, tags=["contracts"]
    )
    async def deadlines(contract_id: str, request: Request, actor: Actor = Depends(current_actor)) -> list[Deadline]:
        may_read(actor, contract_id)
        try:
            return await service.handle(request.app.state.client, contract_id).query(ContractWorkflow.pending_deadlines)
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                raise service.ContractNotFound(contract_id) from exc
            raise

    @app.get("/reminders", tags=["contracts"])
    async def reminders(
        request: Request, contract_id: str | None = CONTRACT_QUERY, actor: Actor = Depends(current_actor)
    ) -> list[dict[str, Any]]:
        rows = await request.app.state.store.list_reminders(contract_id)
        visible = []
        for row in rows:
            try:
                may_read(actor, row["contract_id"])
            except DomainError:
                continue
            visible.append(row)
        return visible

    @app.get(
        "/contracts/{contract_id}/timeline", response_model=list[TimelineEntry], responses=NOT_FOUND, tags=["audit"]
    )
    async def timeline(
        contract_id: str, request: Request, actor: Actor = Depends(current_actor)
    ) -> list[TimelineEntry]:
        may_read(actor, contract_id)
        events = await service.history(request.app.state.store, contract_id)
        return [TimelineEntry(**entry) for entry in audit.timeline(events, DEFAULT_POLICY)]

    @app.get("/contracts/{contract_id}/as-of/{day}", response_model=ContractState, responses=NOT_FOUND, tags=["audit"])
    async def as_of(
        contract_id: str,
        day: Day,
        request: Request,
        known_at: Annotated[
            When | None,
            Query(
                description="Record time: answer with only what Pacte knew then (a date: the end of that day in "
                "Paris). Default: everything known now.",
            ),
        ] = None,
        actor: Actor = Depends(current_actor),
    ) -> ContractState:
        """What was true on ``day`` (business time), as known now or as known at ``known_at`` (record time)."""
        may_read(actor, contract_id)
        events = await service.history(request.app.state.store, contract_id)
        known = None
        if known_at is not None:
            moment = known_at if isinstance(known_at, datetime) else end_of_day(known_at)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=PARIS)
            known = sum(1 for e in events if e.recorded_at <= moment)
        return state_as_of([parse_event(e.payload) for e in events], day, known)

    @app.get("/contracts/{contract_id}/changes", tags=["audit"], responses=NOT_FOUND)
    async def changes(
        contract_id: str,
        request: Request,
        start: Annotated[Day, Query()],
        end: Annotated[Day, Query()],
        actor: Actor = Depends(current_actor),
    ) -> dict[str, Any]:
        """What changed between two business dates, and why: each fact in between says whether it is a new fact,
        a fact recorded late, a rectification, a withdrawal or the calendar's; facts of before ``start`` recorded
        after it (late records, corrections) are listed apart, since they changed what was known of ``start``."""
        may_read(actor, contract_id)
        recorded = await service.history(request.app.state.store, contract_id)
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

    @app.post(
        "/imports",
        response_model=ImportReport,
        tags=["contracts"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "JSON lines: one dated fact a line (see the README, 'Taking over contracts under way')",
                "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
            }
        },
    )
    async def import_contracts(request: Request, actor: Actor = Depends(current_actor)) -> ImportReport:
        """Reprise de l'existant: contracts under way, each with its whole history, recorded in one go per contract
        (all or nothing). A préfet imports the contracts of his départements; the same file again changes nothing."""
        if actor.role is not Role.PREFET:
            raise Forbidden("actor.role: contracts under way are taken over by a préfet", field="actor.role")
        text = (await request.body()).decode("utf-8", errors="strict")
        by_contract = reprise_file.group_lines(text)
        outcomes = []
        for contract_id, raw_lines in by_contract.items():
            outcomes.append(await import_one(request, actor, contract_id, raw_lines))
        return ImportReport(
            imported=sum(o.outcome == "imported" for o in outcomes),
            unchanged=sum(o.outcome == "unchanged" for o in outcomes),
            refused=sum(o.outcome == "refused" for o in outcomes),
            contracts=outcomes,
        )

    async def import_one(
        request: Request, actor: Actor, contract_id: str, raw_lines: list[tuple[int, Any]]
    ) -> ImportOutcome:
        try:
            territory = contract_territory(contract_id)
            check_territory_scope(actor, territory)
            now = datetime.now(UTC)
            lines = tuple(parse_line(raw, n, actor, now) for n, raw in raw_lines)
            outcome = await service.import_contract(request.app.state.client, settings.task_queue, contract_id, lines)
        except DomainError as error:
            return ImportOutcome(
                contract_id=contract_id,
                outcome="refused",
                line=getattr(error, "line", None),
                code=error.code,
                field=error.field,
                message=error.message,
            )
        return ImportOutcome(
            contract_id=contract_id,
            outcome="imported" if outcome.events else "unchanged",
            version=outcome.version,
            events=outcome.events,
        )

    @app.get("/audit/verify", response_model=VerifyReport, tags=["audit"])
    async def audit_verify(request: Request, actor: Actor = Depends(current_actor)) -> VerifyReport:
        auditor_only(actor)
        async with request.app.state.store.pool.acquire() as conn:
            return await verify(conn)

    @app.post("/audit/verify", response_model=VerifyReport, tags=["audit"])
    async def audit_verify_anchor(
        anchor: Anchor, request: Request, actor: Actor = Depends(current_actor)
    ) -> VerifyReport:
        auditor_only(actor)
        async with request.app.state.store.pool.acquire() as conn:
            return await verify(conn, anchor, settings.anchor_key())

    @app.get("/audit/anchor", response_model=Anchor, tags=["audit"])
    async def audit_anchor(request: Request, actor: Actor = Depends(current_actor)) -> Anchor:
        auditor_only(actor)
        async with request.app.state.store.pool.acquire() as conn:
            return await take_anchor(conn, settings.anchor_key())

    @app.get("/audit/cross-check", tags=["audit"])
    async def cross_check(request: Request, actor: Actor = Depends(current_actor)) -> dict[str, Any]:
        """Each live workflow's state against the fold of its stored stream: any difference is reported."""
        auditor_only(actor)
        store: EventStore = request.app.state.store
        differences, checked = [], 0
        for contract_id, _ in await store.list_streams("cls"):
            folded = fold(await store.load_events(contract_id))
            try:
                live = await service.current_state(request.app.state.client, contract_id)
            except service.ContractNotFound:
                differences.append({"contract_id": contract_id, "difference": "no workflow"})
                continue
            checked += 1
            a, b = live.model_dump(mode="json"), folded.model_dump(mode="json")
            fields = sorted(k for k in a if a[k] != b[k])
            if fields:
                differences.append({"contract_id": contract_id, "fields": fields})
        return {"checked": checked, "differences": differences, "ok": not differences}

    async def export_rows(store: EventStore, contract_id: str | None) -> AsyncIterator[dict[str, Any]]:
        if contract_id:
            async for event in store.iter_stream(contract_id):
                yield event.model_dump(mode="json", exclude={"prev_hash", "hash"}) | {"hash": event.hash.hex()}
        else:
            async for event in store.iter_all():
                yield event.model_dump(mode="json", exclude={"prev_hash", "hash"}) | {"hash": event.hash.hex()}

    @app.get("/exports/events.jsonl", tags=["audit"], response_class=JSONLinesResponse, responses=EXPORT_PROBLEMS)
    async def export_jsonl(
        request: Request, contract_id: str | None = CONTRACT_QUERY, actor: Actor = Depends(current_actor)
    ) -> StreamingResponse:
        auditor_only(actor)

        async def lines() -> AsyncIterator[str]:
            async for row in export_rows(request.app.state.store, contract_id):
                yield json.dumps(row, ensure_ascii=False) + "\n"

        return JSONLinesResponse(lines())

    @app.get("/exports/events.csv", tags=["audit"], response_class=CSVResponse, responses=EXPORT_PROBLEMS)
    async def export_csv(
        request: Request, contract_id: str | None = CONTRACT_QUERY, actor: Actor = Depends(current_actor)
    ) -> StreamingResponse:
        auditor_only(actor)
        columns = [
            "global_position",
            "stream_id",
            "version",
            "event_type",
            "occurred_at",
            "recorded_at",
            "role",
            "identity",
            "payload",
            "hash",
        ]

        async def rows() -> AsyncIterator[str]:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(columns)
            async for row in export_rows(request.app.state.store, contract_id):
                actor_ = row["metadata"].get("actor", {})
                writer.writerow(
                    [
                        row["global_position"],
                        row["stream_id"],
                        row["version"],
                        row["event_type"],
                        row["occurred_at"],
                        row["recorded_at"],
                        actor_.get("role"),
                        actor_.get("identity"),
                        json.dumps(row["payload"], ensure_ascii=False),
                        row["hash"],
                    ]
                )
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()

        return CSVResponse(rows())

    @app.post("/campaigns", response_model=CampaignProgress, status_code=202, tags=["campaigns"])
    async def start_campaign(
        body: CampaignBody,
        request: Request,
        actor: Actor = Depends(current_actor),
        idempotency_key: str | None = Header(default=None, max_length=200),
    ) -> CampaignProgress:
        check_role("ProposeContract", actor)
        # Every territory is checked here, so a campaign never starts with proposals the domain would refuse.
        for i, territory_id in enumerate(body.territories):
            territory = REFERENCE_TERRITORIES.get(territory_id)
            if territory is None:
                raise DomainError(
                    f"territories.{i}: unknown territory {territory_id[:30]!r}",
                    field=f"territories.{i}",
                    code="invalid_value",
                )
            check_territory_scope(actor, territory)
        if len(set(body.territories)) != len(body.territories):
            raise DomainError("territories: a territory is listed twice", field="territories", code="invalid_value")
        for territory_id in body.ceilings:
            if territory_id not in body.territories:
                raise DomainError(
                    f"ceilings.{territory_id[:30]}: not one of the campaign's territories",
                    field=f"ceilings.{territory_id[:30]}",
                    code="invalid_value",
                )
        # Namespaced by who starts it: two préfets' keys never meet, and nobody can guess another's campaign id.
        owner = hashlib.sha256(actor.identity.encode()).hexdigest()[:10]
        campaign_id = f"campaign-{owner}-{idempotency_key or uuid.uuid4().hex[:12]}"
        # What the campaign asks, by whom: starting it again with the same key must ask the same.
        asked = keyed_request_id(campaign_id, body.model_dump(mode="json") | {"actor": actor.model_dump(mode="json")})
        temporal: Client = request.app.state.client
        try:
            await temporal.start_workflow(
                CampaignWorkflow.run,
                CampaignInput(
                    campaign_id=campaign_id,
                    territories=tuple(body.territories),
                    annual_ceiling=body.annual_ceiling,
                    ceilings=body.ceilings,
                    actor=actor,
                    request_prefix=campaign_id,
                    at=datetime.now(UTC),
                ),
                id=campaign_id,
                task_queue=settings.task_queue,
                memo={"asked": asked, "territories": list(body.territories)},
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            first = await (await temporal.get_workflow_handle(campaign_id).describe()).memo()
            if first.get("asked") != asked:
                raise DomainError(
                    f"Idempotency-Key: campaign {campaign_id} was started with a different request; a retry must "
                    "repeat the same request, a new campaign needs a new key",
                    field="request_id",
                    code="idempotency_key_reused",
                ) from None
        return CampaignProgress(campaign_id=campaign_id, territories=list(body.territories))

    @app.get("/campaigns/{campaign_id}", response_model=CampaignProgress, responses=NOT_FOUND, tags=["campaigns"])
    async def campaign(campaign_id: str, request: Request, actor: Actor = Depends(current_actor)) -> CampaignProgress:
        if actor.role not in (Role.PREFET, Role.AUDITOR):
            raise Forbidden("actor.role: campaigns are followed by préfets and auditors", field="actor.role")
        missing = DomainError(f"campaign_id: no campaign {campaign_id[:80]}", field="campaign_id", code="not_found")
        if not campaign_id.startswith("campaign-"):
            raise missing  # a contract's id (or anything else) is not a campaign
        handle = request.app.state.client.get_workflow_handle(campaign_id)
        try:
            described = await handle.describe()
            if described.workflow_type != "CampaignWorkflow":
                raise missing
            territories = (await described.memo()).get("territories", [])
            if actor.role is Role.PREFET:  # a préfet reads the campaigns of his territories only
                for territory_id in territories:  # checked when the campaign started: all known
                    check_territory_scope(actor, REFERENCE_TERRITORIES[territory_id])
            progress: CampaignProgress = await handle.query(CampaignWorkflow.progress)
            return progress
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                raise missing from exc
            raise

    return app
