"""The HTTP API (FastAPI; OpenAPI at /docs). Operators' commands go to the workflows, audits read the event store."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from temporalio.client import Client

from domain.actors import Actor, Role
from domain.commands import ProposeContract
from domain.errors import DomainError
from domain.money import parse_euros
from domain.state import ContractState
from domain.territories import REFERENCE_TERRITORIES, Territory, contract_id_for
from eventstore.store import EventStore
from pacte import service
from pacte.runtime import connect_temporal, open_store
from pacte.settings import Settings, get_settings


class ProposeBody(BaseModel):
    territory: str = Field(description="SIREN of a métropole, or D + INSEE code of a département")
    ceiling: str = Field(description='Annual ceiling in euros, e.g. "1 500 000" or "1500000,50"')
    actor: Actor = Field(
        default=Actor(role=Role.PREFET, identity="prefet-dev", scope=("*",)),
        description="Until bearer tokens (the interfaces issue), the caller states who acts",
    )


class ProposeAnswer(BaseModel):
    contract_id: str
    created: bool
    state: ContractState | None
    events: list[dict[str, Any]]


class HistoryEntry(BaseModel):
    version: int
    global_position: int
    event_type: str
    actor: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime
    payload: dict[str, Any]


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
        version="0.1.0",
        lifespan=lifespan,
    )

    @app.exception_handler(DomainError)
    async def refused(_: Request, error: DomainError) -> JSONResponse:
        status = 409 if error.code == "already_exists" else 422
        return JSONResponse(error.to_dict(), status_code=status)

    @app.exception_handler(service.ContractNotFound)
    async def not_found(_: Request, error: service.ContractNotFound) -> JSONResponse:
        return JSONResponse(
            {"code": "not_found", "message": f"no contract {error.contract_id}", "field": "contract_id"}, 404
        )

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/territories", response_model=list[Territory])
    async def territories() -> list[Territory]:
        return sorted(REFERENCE_TERRITORIES.values(), key=lambda t: t.id)

    @app.post("/contracts", response_model=ProposeAnswer, status_code=201)
    async def propose(
        body: ProposeBody, request: Request, idempotency_key: str | None = Header(default=None)
    ) -> ProposeAnswer | JSONResponse:
        try:
            ceiling = parse_euros(body.ceiling)
        except ValueError as exc:
            raise DomainError(f"ceiling: {exc}", field="ceiling", code="invalid_value") from None
        command = ProposeContract(
            contract_id=contract_id_for(body.territory),
            actor=body.actor,
            request_id=idempotency_key or str(uuid.uuid4()),
            at=datetime.now(UTC),
            territory_id=body.territory,
            annual_ceiling=ceiling,
        )
        outcome = await service.propose(request.app.state.client, settings.task_queue, command)
        answer = ProposeAnswer(
            contract_id=outcome.contract_id,
            created=outcome.created,
            state=outcome.result.state if outcome.result else None,
            events=outcome.result.events if outcome.result else [],
        )
        if not outcome.created:
            return JSONResponse(answer.model_dump(mode="json"), status_code=200)
        return answer

    @app.get("/contracts/{contract_id}", response_model=ContractState)
    async def show(contract_id: str, request: Request) -> ContractState:
        return await service.current_state(request.app.state.client, contract_id)

    @app.get("/contracts/{contract_id}/history", response_model=list[HistoryEntry])
    async def history(contract_id: str, request: Request) -> list[HistoryEntry]:
        if not contract_id.startswith("cls-"):
            raise HTTPException(404, "unknown contract")
        events = await service.history(request.app.state.store, contract_id)
        return [
            HistoryEntry(
                version=e.version,
                global_position=e.global_position,
                event_type=e.event_type,
                actor=e.metadata.get("actor", {}),
                occurred_at=e.occurred_at,
                recorded_at=e.recorded_at,
                payload=e.payload,
            )
            for e in events
        ]

    return app
