"""One way to assemble a service: FastAPI for HTTP and FastStream for events,
in one process, sharing the database, the outbox and the metrics.

A service describes itself with a :class:`ServiceDefinition`; :func:`create_app`
turns that into an ASGI app whose lifespan starts and stops everything in the
right order:

start   logging → database + indexes → RabbitMQ topology → broker connection
        → outbox relay (drains what an earlier run left) → consumers → background tasks
stop    background tasks → consumers (finish in-flight messages) → relay (publish
        what is committed) → broker → database
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aio_pika
from aio_pika.abc import AbstractRobustConnection
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from faststream.rabbit import Channel, RabbitBroker
from faststream.security import BaseSecurity
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from servicekit import audit, logs
from servicekit import outbox as outbox_store
from servicekit.auth import JwksKeys, TokenVerifier
from servicekit.authz import AccessMatrix, authorize
from servicekit.clock import Clock, SystemClock
from servicekit.http import idempotency as idempotency_store
from servicekit.http.problems import Problem, install_problem_handlers, problem_response
from servicekit.inbox import Inbox
from servicekit.messaging import (
    Dependencies,
    EventConsumer,
    EventRouter,
    OutageGate,
    outbox_publisher,
)
from servicekit.metrics import ServiceMetrics
from servicekit.mongo import IndexSpec, Mongo, Transactions
from servicekit.outbox import OutboxRelay
from servicekit.settings import ServiceSettings
from servicekit.topology import dead_letter_queue, declare_topology, queue_depth
from servicekit.transport import amqp_ssl_context

log = logging.getLogger(__name__)

T = TypeVar("T")

BackgroundTask = Callable[["ServiceRuntime"], Awaitable[None]]
DependencyFactory = Callable[["ServiceRuntime"], Iterable[object]]


@dataclass
class ServiceDefinition:
    """Everything that makes one service different from another."""

    name: str
    title: str
    description: str
    settings: ServiceSettings
    api_routers: Sequence[APIRouter] = ()
    # Who may call which route (servicekit.authz); every route needs a row.
    access: AccessMatrix | None = None
    event_routers: Sequence[EventRouter] = ()
    indexes: Sequence[IndexSpec] = ()
    dependencies: DependencyFactory = lambda runtime: ()
    background_tasks: Sequence[BackgroundTask] = ()
    version: str = "1.0.0"


@dataclass
class ServiceRuntime:
    """The live parts of a running service; FastAPI keeps it in ``app.state.runtime``."""

    definition: ServiceDefinition
    settings: ServiceSettings
    clock: Clock
    metrics: ServiceMetrics
    mongo: Mongo
    broker: RabbitBroker
    relay: OutboxRelay
    transactions: Transactions
    consumer: EventConsumer
    verifier: TokenVerifier
    dependencies: Dependencies
    amqp: AbstractRobustConnection | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    # Set by the runner when SIGTERM arrives: the graceful budget counts from then.
    stop_requested_at: float | None = None
    stopped_cleanly: bool | None = None

    def get(self, cls: type[T]) -> T:
        return self.dependencies.get(cls)  # type: ignore[no-any-return]


def get_runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def provide(cls: type[T]) -> Any:
    """``Depends`` on a service dependency by type: ``Annotated[X, provide(X)]``."""

    def dependency(request: Request) -> T:
        return get_runtime(request).get(cls)

    return Depends(dependency)


def build_runtime(definition: ServiceDefinition, clock: Clock | None = None) -> ServiceRuntime:
    settings = definition.settings
    clock = clock or SystemClock()
    metrics = ServiceMetrics(definition.name)
    mongo = Mongo.from_settings(settings, app_name=definition.name)
    broker = RabbitBroker(
        settings.amqp_url.get_secret_value(),
        security=BaseSecurity(ssl_context=amqp_ssl_context(settings)),
        # Publisher confirms, and an unroutable mandatory message raises instead
        # of vanishing: the outbox record then stays and is tried again.
        default_channel=Channel(publisher_confirms=True, on_return_raises=True),
        graceful_timeout=settings.graceful_timeout,
        middlewares=[metrics.faststream_middleware()],
        logger=logging.getLogger("faststream"),
        log_level=logging.DEBUG,  # per-message lines only when LOG_LEVEL=DEBUG
        app_id=definition.name,
        fail_fast=False,
    )
    relay = OutboxRelay(
        mongo.db,
        outbox_publisher(broker, metrics),
        clock,
        poll_interval=settings.outbox_poll_interval,
        on_backlog=metrics.outbox_backlog.set,
    )
    transactions = Transactions(
        mongo,
        clock,
        outbox_store.write_outbox,
        relay.notify,
        on_retry=lambda reason: metrics.transaction_retries.labels(reason).inc(),
        service=definition.name,
    )
    dependencies = Dependencies(settings, clock, transactions)
    consumer = EventConsumer(
        definition.name,
        definition.event_routers,
        Inbox(definition.name, transactions),
        dependencies,
        metrics,
        prefetch=settings.consumer_prefetch,
        delivery_limit=settings.delivery_limit,
        backoff=(settings.retry_backoff_initial, settings.retry_backoff_max),
        outage=OutageGate(mongo.ping, metrics, patience=settings.database_outage_patience),
    )
    consumer.subscribe(broker)
    verifier = TokenVerifier(
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        secret=settings.auth_jwt_secret.get_secret_value() if settings.auth_jwt_secret else None,
        jwks=JwksKeys(
            settings.auth_jwks_url,
            max_age=settings.auth_jwks_max_age,
            refresh_interval=settings.auth_jwks_refresh_interval,
        )
        if settings.auth_jwks_url
        else None,
    )
    runtime = ServiceRuntime(
        definition,
        settings,
        clock,
        metrics,
        mongo,
        broker,
        relay,
        transactions,
        consumer,
        verifier,
        dependencies,
    )
    for dependency in definition.dependencies(runtime):
        dependencies.add(dependency)
    return runtime


def create_app(definition: ServiceDefinition, clock: Clock | None = None) -> FastAPI:
    runtime = build_runtime(definition, clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await start(runtime)
        try:
            yield
        finally:
            await stop(runtime)

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version=definition.version,
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,  # bearer tokens only: no OAuth2 flow in the docs
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, metrics=runtime.metrics)
    app.include_router(operations_router())
    for router in definition.api_routers:
        # The matrix decides who gets in, for every API route alike.
        app.include_router(router, dependencies=[Depends(authorize)])
    access = definition.access or AccessMatrix(definition.name, [])
    access.check_covers(app)  # a route without a row never starts
    app.state.access = access
    return app


async def start(runtime: ServiceRuntime) -> None:
    settings = runtime.settings
    await _wait_for_database(runtime)
    await runtime.mongo.ensure_indexes(
        [
            *outbox_store.INDEXES,
            *idempotency_store.INDEXES,
            *audit.INDEXES,
            *runtime.definition.indexes,
        ]
    )
    runtime.amqp = await aio_pika.connect_robust(
        settings.amqp_url.get_secret_value(), ssl_context=amqp_ssl_context(settings)
    )
    queues = [runtime.consumer.queue] if runtime.consumer.registrations else []
    await declare_topology(runtime.amqp, queues)
    await runtime.broker.connect()
    await runtime.relay.drain()
    await runtime.relay.start()
    await runtime.broker.start()
    runtime.tasks.append(asyncio.create_task(_probe_dead_letters(runtime), name="dlq-probe"))
    sealer = audit.run_sealer(runtime.transactions, settings.audit_seal_interval)
    runtime.tasks.append(asyncio.create_task(sealer, name="audit-sealer"))
    for task in runtime.definition.background_tasks:
        runtime.tasks.append(asyncio.create_task(task(runtime), name=task.__name__))
    log.info(
        "service started",
        extra={"consumes": list(runtime.consumer.queue.routing_keys), "port": settings.http_port},
    )


async def stop(runtime: ServiceRuntime) -> bool:
    """Stop within GRACEFUL_TIMEOUT of the stop request (SIGTERM): finish the messages in
    flight, publish what is committed. True when all of it was done in time."""
    started = runtime.stop_requested_at or time.monotonic()
    deadline = started + runtime.settings.graceful_timeout
    log.info("service stopping")

    def left() -> float:
        return max(0.1, deadline - time.monotonic())

    for task in runtime.tasks:
        task.cancel()
    if runtime.tasks:
        # A task cancelled in the middle of a broker call may take a moment.
        await asyncio.wait(runtime.tasks, timeout=min(5, left()))
    runtime.tasks.clear()
    runtime.consumer.stop_holding()
    in_flight_done = await _stop_consuming(runtime, left)
    published = await runtime.relay.stop(timeout=left())
    await runtime.broker.stop()
    await runtime.verifier.aclose()
    if runtime.amqp is not None:
        await runtime.amqp.close()
    await runtime.mongo.close()
    runtime.stopped_cleanly = in_flight_done and published and time.monotonic() <= deadline
    log.info(
        "service stopped",
        extra={
            "clean": runtime.stopped_cleanly,
            "seconds": round(time.monotonic() - started, 2),
            "in_flight_finished": in_flight_done,
            "outbox_published": published,
        },
    )
    return runtime.stopped_cleanly


async def _stop_consuming(runtime: ServiceRuntime, left: Callable[[], float]) -> bool:
    """Take no new messages and let those in flight finish (acked) within the budget."""
    finished = True
    for subscriber in runtime.broker.subscribers:
        try:
            await asyncio.wait_for(subscriber.stop(), left())
        except TimeoutError:
            finished = False
        lock = getattr(subscriber, "lock", None)
        if getattr(lock, "qsize", 0):  # FastStream's count of messages still being handled
            finished = False
    return finished


async def _wait_for_database(runtime: ServiceRuntime, attempts: int = 30) -> None:
    for attempt in range(attempts):
        if await runtime.mongo.ping():
            return
        log.warning("database not reachable yet", extra={"attempt": attempt + 1})
        await asyncio.sleep(1)
    raise RuntimeError("the database could not be reached at start-up")


async def _probe_dead_letters(runtime: ServiceRuntime) -> None:
    """Keep the dead-letter gauge current (FastStream cannot see that queue)."""
    if not runtime.consumer.registrations or runtime.amqp is None:
        return
    name = dead_letter_queue(runtime.definition.name)
    channel = None
    while True:
        try:
            if channel is None or channel.is_closed:
                channel = await runtime.amqp.channel()
            depth = await queue_depth(channel, name)
            runtime.metrics.dead_letters.labels(name).set(depth)
            runtime.metrics.outbox_backlog.set(await runtime.relay.backlog())
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the broker or database is away; the next round retries
            log.debug("dead-letter probe failed", extra={"error": type(error).__name__})
        await asyncio.sleep(runtime.settings.dead_letter_probe_interval)


def operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health/live", summary="The process is up")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/health/ready", summary="The database and the broker are reachable")
    async def ready(request: Request) -> Response:
        runtime = get_runtime(request)
        checks = {
            "database": await runtime.mongo.ping(),
            "broker": await runtime.broker.ping(timeout=1.0),
        }
        if all(checks.values()):
            return Response('{"status":"ok"}', media_type="application/json")
        failing = ", ".join(k for k, ok in checks.items() if not ok)
        problem = Problem(503, "Not ready", f"not reachable: {failing}", "not-ready")
        return problem_response(request, problem)

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        registry = get_runtime(request).metrics.registry
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


class RequestContextMiddleware(BaseHTTPMiddleware):
    """Correlation id per request (X-Correlation-ID in and out) and HTTP metrics."""

    def __init__(self, app: Any, metrics: ServiceMetrics) -> None:
        super().__init__(app)
        self._metrics = metrics

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        incoming = request.headers.get("x-correlation-id", "")
        cid = incoming if _is_safe_id(incoming) else _new_id()
        token = logs.correlation_id.set(cid)
        scope_token = audit.bind_request(request.scope)
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            response.headers["X-Correlation-ID"] = cid
            return response
        finally:
            route = _route_template(request)
            elapsed = time.perf_counter() - started
            self._metrics.http_requests.labels(request.method, route, str(status)).inc()
            self._metrics.http_duration.labels(request.method, route).observe(elapsed)
            if route.startswith("/api"):
                log.info(
                    "http request",
                    extra={
                        "method": request.method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 1),
                    },
                )
            audit.unbind_request(scope_token)
            logs.correlation_id.reset(token)


def _route_template(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", "unmatched")


def _is_safe_id(value: str) -> bool:
    return 0 < len(value) <= 128 and all(c.isalnum() or c in "-_.:" for c in value)


def _new_id() -> str:
    return str(uuid.uuid4())
