"""A small service built with the kit, for testing the kit itself on real infrastructure."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from buurtsignaal_contracts import CloudEvent
from buurtsignaal_contracts.events import SignalReceived
from servicekit.app import ServiceDefinition, provide
from servicekit.auth import Role
from servicekit.authz import AccessMatrix, Data, Scope, public, route
from servicekit.http.idempotency import IdempotencyKey, create_once
from servicekit.http.security import CurrentPrincipal
from servicekit.messaging import EventRouter
from servicekit.mongo import IndexSpec, Transactions, UnitOfWork
from servicekit.settings import ServiceSettings
from servicekit.testing.events import signal_received

SERVICE = "kittest"


class Thing(BaseModel):
    kind: str = Field(pattern="^[a-z]+$")
    size: int = Field(ge=1)


@dataclass
class Probe:
    """What the test handler does and saw; the test steers it."""

    fail: bool = False
    error: Exception | None = None  # raised by the handler, when set
    calls: int = 0
    release: asyncio.Event | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)


def kit_definition(
    amqp_url: str, mongodb_url: str, database: str, probe: Probe, **settings: Any
) -> ServiceDefinition:
    events = EventRouter()

    @events.handles(SignalReceived)
    async def count_signal(
        event: CloudEvent[SignalReceived], uow: UnitOfWork, probe: Probe
    ) -> None:
        probe.calls += 1
        probe.started.set()
        if probe.release is not None:
            await probe.release.wait()
        if probe.fail:
            raise RuntimeError("the handler is broken")
        if probe.error is not None:
            raise probe.error
        await uow.db.counts.update_one(
            {"_id": "signals"}, {"$inc": {"n": 1}}, upsert=True, session=uow.session
        )

    api = APIRouter()

    @api.post("/emit")
    async def emit(
        transactions: Annotated[Transactions, provide(Transactions)], fail: bool = False
    ) -> dict[str, str]:
        async def work(uow: UnitOfWork) -> str:
            event = uow.emit(signal_received())
            await uow.db.things.insert_one({"_id": str(event.id)}, session=uow.session)
            if fail:
                raise RuntimeError("the change fails after the event was emitted")
            return str(event.id)

        return {"event_id": await transactions.run(work)}

    @api.post("/things", status_code=201)
    async def create_thing(
        thing: Thing,
        transactions: Annotated[Transactions, provide(Transactions)],
        principal: CurrentPrincipal,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        async def create(uow: UnitOfWork) -> tuple[int, Any]:
            thing_id = str(uuid.uuid4())
            await uow.db.things.insert_one(
                {"_id": thing_id, **thing.model_dump()}, session=uow.session
            )
            return 201, {"id": thing_id}

        return await create_once(
            transactions,
            key=idempotency_key,
            principal=principal,
            scope="things",
            payload=thing.model_dump(),
            create=create,
        )

    defaults: dict[str, Any] = dict(
        delivery_limit=2,
        retry_backoff_initial=0.01,
        retry_backoff_max=0.05,
        graceful_timeout=10,
        outbox_poll_interval=0.2,
        dead_letter_probe_interval=0.2,
    )
    return ServiceDefinition(
        name=SERVICE,
        title="kit test service",
        description="",
        settings=ServiceSettings(
            service_name=SERVICE,
            amqp_url=amqp_url,
            mongodb_url=mongodb_url,
            mongodb_database=database,
            **{**defaults, **settings},
        ),
        api_routers=[api],
        access=AccessMatrix(
            SERVICE,
            [
                public("POST", "/emit"),
                route("POST", "/things", Data.NONE, {role: Scope.ANY for role in Role}),
            ],
        ),
        event_routers=[events],
        indexes=[IndexSpec("things", [("kind", 1)])],
        dependencies=lambda runtime: [probe],
    )
