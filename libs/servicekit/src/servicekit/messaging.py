"""Consuming and publishing events with FastStream.

A service declares what it handles with :class:`EventRouter` (one per area of
the service), FastStream-style::

    router = EventRouter()

    @router.handles(SignalReceived)
    async def open_or_join_case(event: CloudEvent[SignalReceived], uow: UnitOfWork,
                                policy: CasePolicy) -> None: ...

The first two parameters are the event and the unit of work; any further
parameter is injected by its type from the service's dependencies.

:class:`EventConsumer` binds all handlers to the service's one queue: each
handler is a FastStream handler with a filter on the event type, wrapped in
the inbox and a transaction. A handler that fails is retried with backoff
(nack and requeue; the quorum queue counts deliveries); on the last allowed
delivery, or at once for a :class:`PermanentFailure`, the consumer sends the
message to the dead-letter queue itself, saying why and how often
(:mod:`servicekit.deadletters`). A message that cannot be parsed, or that no
handler takes, is rejected: the broker dead-letters it at once. While the
database is unreachable, or the message's writes conflict with a transaction a
killed process left open, the message is not failing: the consumer holds it
(:class:`OutageGate`) and tries again, so an outage spends no delivery attempts.
"""

# No "from __future__ import annotations" here: FastStream reads the handler
# annotations at run time, and they are built from variables.

import asyncio
import inspect
import itertools
import json
import logging
import time
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from faststream import AckPolicy
from faststream.exceptions import NackMessage, RejectMessage
from faststream.rabbit import (
    Channel,
    ExchangeType,
    RabbitBroker,
    RabbitExchange,
    RabbitQueue,
)
from faststream.rabbit.annotations import RabbitMessage
from faststream.rabbit.schemas import QueueType
from pymongo.errors import ConnectionFailure

from buurtsignaal_contracts import CLOUDEVENTS_CONTENT_TYPE, CloudEvent, EventData
from servicekit import audit, logs
from servicekit.deadletters import dead_letter_headers
from servicekit.inbox import Inbox
from servicekit.metrics import ServiceMetrics
from servicekit.mongo import DatabaseUnreachable, TransactionConflicted, UnitOfWork
from servicekit.topology import DEAD_LETTER_EXCHANGE, EVENTS_EXCHANGE, ServiceQueue

log = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[None]]


class PermanentFailure(Exception):
    """Raised by a handler for a message that can never succeed: dead-letter it now.

    Its text is shown to operators with the dead letter: codes and ids only."""


class NotHandledYet(Exception):
    """Raised by a handler for a sound message that this service cannot handle yet, e.g.
    one naming a district its configuration does not have yet: retried with backoff like
    any failure (a deployment may bring what is missing), then dead-lettered for an
    operator to replay once it is fixed.

    Its text is shown to operators with the dead letter: codes and ids only."""


@dataclass(frozen=True)
class Registration:
    model: type[EventData]
    handler: Handler
    injected: dict[str, type]


class EventRouter:
    """The event handlers of one area of a service."""

    def __init__(self) -> None:
        self.registrations: list[Registration] = []

    def handles(self, model: type[EventData]) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            hints = typing.get_type_hints(handler)
            parameters = list(inspect.signature(handler).parameters)
            if len(parameters) < 2:
                raise TypeError(f"{handler.__name__} must take (event, uow, ...)")
            injected = {name: hints[name] for name in parameters[2:]}
            self.registrations.append(Registration(model, handler, injected))
            return handler

        return register


class Dependencies:
    """What handlers and routes may ask for, found by type."""

    def __init__(self, *objects: object) -> None:
        self._by_type: dict[type, object] = {}
        for obj in objects:
            self.add(obj)

    def add(self, obj: object) -> None:
        for cls in type(obj).__mro__[:-1]:  # the class and its bases, not object
            self._by_type.setdefault(cls, obj)

    def get(self, cls: type) -> Any:
        try:
            return self._by_type[cls]
        except KeyError:
            raise LookupError(f"no dependency of type {cls.__name__} was provided") from None


def retry_delay(delivery_count: int, initial: float, maximum: float) -> float:
    """Exponential backoff by how often the broker has delivered the message."""
    return min(initial * 2**delivery_count, maximum)


class OutageGate:
    """Where consumers wait while the database cannot do their work, but will.

    Two conditions pass by themselves: the database is unreachable (down,
    restarting, failing over), or the event's own writes keep conflicting with
    a transaction that a killed process left open (MongoDB aborts it after
    ``transactionLifetimeLimitSeconds``, 60 s by default). Nacking would requeue
    the message at once, spend a delivery each time and, over a long enough
    outage, dead-letter an event that was never wrong. So a consumer holds its
    message (unacknowledged: the broker keeps it safe if the process dies) and
    tries again when the database answers. One waiter pings at a time; the
    others queue behind it and find the answer fresh.
    """

    def __init__(
        self,
        ping: Callable[[], Awaitable[bool]],
        metrics: ServiceMetrics,
        *,
        patience: float,
        interval: float = 0.5,
        longest_pause: float = 5.0,
    ) -> None:
        self.patience = patience
        self.interval = interval
        self._longest_pause = longest_pause
        self._ping = ping
        self._metrics = metrics
        self._lock = asyncio.Lock()
        self._closing = asyncio.Event()

    def close(self) -> None:
        """The service stops: let go of every held message now (the broker gets it back)."""
        self._closing.set()

    @property
    def closing(self) -> bool:
        return self._closing.is_set()

    async def hold(self, reason: str, deadline: float, round_: int) -> bool:
        """Wait out ``reason`` (``unreachable`` or ``conflict``); False once ``deadline``
        (monotonic) has passed, then the message fails like any other, or the gate closed."""
        if self.closing:
            return False
        self._metrics.held_for_database.inc()
        waiting = asyncio.ensure_future(self._wait_out(reason, deadline, round_))
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({waiting, closing}, return_when=asyncio.FIRST_COMPLETED)
            return waiting.done() and waiting.result()
        finally:
            waiting.cancel()
            closing.cancel()
            self._metrics.held_for_database.dec()

    async def _wait_out(self, reason: str, deadline: float, round_: int) -> bool:
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                if round_ > 0 or reason == "conflict":  # do not spin
                    await asyncio.sleep(min(self.interval * 2**round_, self._longest_pause))
                if reason == "unreachable":
                    await self._until_reachable()
            return True
        except TimeoutError:
            return False

    async def _until_reachable(self) -> None:
        async with self._lock:
            while not await self._ping():  # noqa: ASYNC110 (polls the database)
                await asyncio.sleep(self.interval)


class EventConsumer:
    def __init__(
        self,
        service: str,
        routers: Iterable[EventRouter],
        inbox: Inbox,
        dependencies: Dependencies,
        metrics: ServiceMetrics,
        *,
        prefetch: int,
        delivery_limit: int,
        backoff: tuple[float, float],
        outage: OutageGate | None = None,
    ) -> None:
        self.service = service
        self.registrations = [r for router in routers for r in router.registrations]
        self._inbox = inbox
        self._dependencies = dependencies
        self._metrics = metrics
        self._prefetch = prefetch
        self._delivery_limit = delivery_limit
        self._backoff = backoff
        self._broker: RabbitBroker | None = None
        self._outage = outage
        types = [r.model.event_type() for r in self.registrations]
        duplicates = {t for t in types if types.count(t) > 1}
        if duplicates:
            raise TypeError(f"more than one handler for {sorted(duplicates)}")

    def stop_holding(self) -> None:
        """Give back the messages held for the database (the service stops)."""
        if self._outage is not None:
            self._outage.close()

    @property
    def queue(self) -> ServiceQueue:
        keys = tuple(sorted(r.model.routing_key() for r in self.registrations))
        return ServiceQueue(self.service, keys, self._delivery_limit)

    def subscribe(self, broker: RabbitBroker) -> None:
        """Register one FastStream subscriber on the queue, a handler per event type."""
        if not self.registrations:
            return
        self._broker = broker
        subscriber = broker.subscriber(
            RabbitQueue(self.service, queue_type=QueueType.QUORUM, declare=False),
            channel=Channel(prefetch_count=self._prefetch),
            ack_policy=AckPolicy.REJECT_ON_ERROR,
            decoder=decode_json_body,
            title=self.service,
        )
        for registration in self.registrations:
            subscriber(
                self._faststream_handler(registration),
                filter=_has_type(registration.model.event_type()),
            )
        subscriber(reject_unhandled)  # registered last: only what no filter took

    def _faststream_handler(self, registration: Registration) -> Handler:
        async def consume(event: Any, message: Any) -> None:
            await self._consume(registration, event, message)

        # FastStream validates the body into this pydantic model before the call.
        consume.__annotations__ = {
            "event": CloudEvent[registration.model],  # type: ignore[name-defined]
            "message": RabbitMessage,
            "return": None,
        }
        consume.__name__ = registration.handler.__name__
        consume.__qualname__ = registration.handler.__qualname__
        consume.__doc__ = registration.handler.__doc__
        return consume

    async def _consume(
        self, registration: Registration, event: CloudEvent[Any], message: Any
    ) -> None:
        token = logs.correlation_id.set(event.correlationid)
        try:
            with audit.processing_route(f"event:{registration.model.routing_key()}"):
                await self._apply(registration, event, message)
        finally:
            logs.correlation_id.reset(token)

    async def _apply(
        self, registration: Registration, event: CloudEvent[Any], message: Any
    ) -> None:
        injected = {n: self._dependencies.get(t) for n, t in registration.injected.items()}

        async def handle(uow: UnitOfWork) -> None:
            await registration.handler(event, uow, **injected)

        context = {"event_id": str(event.id), "event_type": event.type}
        # Earlier deliveries of this message (the quorum queue counts them).
        earlier = int((message.raw_message.headers or {}).get("x-delivery-count") or 0)
        try:
            applied = await self._process_through_outages(event, handle, context)
        except NackMessage:
            raise  # handed back on stop while held; FastStream nacks it
        except PermanentFailure as failure:
            log.error(
                "event can never be handled; dead-lettered",
                extra={**context, "reason": str(failure)},
            )
            text = _operator_text(failure)
            if await self._dead_letter(message, "permanent-failure", text, earlier + 1):
                return  # acknowledged: the copy in the dead-letter queue says why
            raise RejectMessage(requeue=False) from failure
        except Exception as error:
            self._metrics.handler_retries.labels(event.type).inc()
            last = earlier >= self._delivery_limit
            log.log(
                logging.ERROR if last else logging.WARNING,
                "handler failed; dead-lettered" if last else "handler failed; will be retried",
                extra={
                    **context,
                    "error": _operator_text(error),
                    "deliveries": earlier + 1,
                    **({} if last else {"retry_in": retry_delay(earlier, *self._backoff)}),
                },
                exc_info=last,
            )
            if last and await self._dead_letter(
                message, "delivery-limit", _operator_text(error), earlier + 1
            ):
                return
            if not last:
                await asyncio.sleep(retry_delay(earlier, *self._backoff))
            # requeued; past the delivery limit the broker dead-letters it
            raise NackMessage(requeue=True) from error
        if not applied:
            self._metrics.duplicates_ignored.labels(event.type).inc()
            log.info("duplicate event ignored", extra=context)

    async def _dead_letter(self, message: Any, reason: str, error: str, deliveries: int) -> bool:
        """Put a copy in the dead-letter queue saying why and how often (confirmed by the
        broker); False when that fails, and the broker's dead-lettering takes over."""
        raw = message.raw_message
        headers = {k: v for k, v in (raw.headers or {}).items() if not k.startswith("x-")}
        assert self._broker is not None
        try:
            await self._broker.publish(
                raw.body,
                exchange=dead_letter_exchange(),
                routing_key=self.service,
                headers={**headers, **dead_letter_headers(reason, error, deliveries)},
                persist=True,
                mandatory=True,
                message_id=raw.message_id,
                correlation_id=raw.correlation_id,
                content_type=raw.content_type,
                message_type=raw.type,
                timestamp=raw.timestamp,
            )
        except Exception as failure:
            log.warning(
                "could not dead-letter with the reason; the broker dead-letters it",
                extra={"event_id": raw.message_id, "error": type(failure).__name__},
            )
            return False
        self._metrics.dead_lettered.labels(str(raw.type), reason).inc()
        return True

    async def _process_through_outages(
        self,
        event: CloudEvent[Any],
        handle: Callable[[UnitOfWork], Awaitable[None]],
        context: dict[str, str],
    ) -> bool:
        """The inbox's process, held and tried again while the database is unreachable or
        the event's writes conflict (up to the gate's patience in all; then it fails like
        any other error: retried with backoff, dead-lettered at the delivery limit)."""
        deadline = None
        for round_ in itertools.count():
            try:
                return await self._inbox.process(event, handle)
            except (DatabaseUnreachable, ConnectionFailure, TransactionConflicted) as error:
                if self._outage is None or self._outage.patience <= 0:
                    raise
                reason = "conflict" if isinstance(error, TransactionConflicted) else "unreachable"
                if deadline is None:
                    deadline = time.monotonic() + self._outage.patience
                    log.warning(
                        "database %s; holding the event",
                        reason,
                        extra={**context, "error": type(error).__name__},
                    )
                if not await self._outage.hold(reason, deadline, round_):
                    if self._outage.closing:  # back to the queue as it is: not a failure
                        raise NackMessage(requeue=True) from error
                    self._metrics.database_holds.labels(reason, "patience-exhausted").inc()
                    raise
                self._metrics.database_holds.labels(reason, "tried-again").inc()
        raise AssertionError("unreachable")  # itertools.count() never ends


def _operator_text(error: BaseException) -> str:
    """What an operator may see of a failure: the text of the failures written for them,
    only the type of any other (its text might quote data)."""
    if isinstance(error, PermanentFailure | NotHandledYet):
        return f"{type(error).__name__}: {error}"
    return type(error).__name__


def _has_type(event_type: str) -> Callable[[Any], bool]:
    def matches(message: Any) -> bool:
        # The AMQP type property, not the routing key: a message replayed from
        # the dead-letter queue arrives through the default exchange.
        return bool(message.raw_message.type == event_type)

    return matches


async def reject_unhandled(message: RabbitMessage) -> None:
    log.error(
        "no handler for this message; dead-lettered",
        extra={"message_type": message.raw_message.type, "message_id": message.message_id},
    )
    raise RejectMessage(requeue=False)


def decode_json_body(message: Any) -> Any:
    """Decode the JSON body whatever its JSON content type (CloudEvents uses +json)."""
    return json.loads(message.body)


def events_exchange() -> RabbitExchange:
    # declare=False: the exchange is declared by the topology; passive here.
    return RabbitExchange(EVENTS_EXCHANGE, type=ExchangeType.TOPIC, durable=True, declare=False)


def dead_letter_exchange() -> RabbitExchange:
    return RabbitExchange(
        DEAD_LETTER_EXCHANGE, type=ExchangeType.DIRECT, durable=True, declare=False
    )


def outbox_publisher(
    broker: RabbitBroker, metrics: ServiceMetrics
) -> Callable[[dict[str, Any]], Awaitable[None]]:
    """Publish one outbox record: persistent, confirmed, mandatory."""
    exchange = events_exchange()

    async def publish(record: dict[str, Any]) -> None:
        await broker.publish(
            record["body"],
            exchange=exchange,
            routing_key=record["routing_key"],
            persist=True,
            mandatory=True,
            message_id=record["_id"],
            correlation_id=record["correlation_id"],
            content_type=CLOUDEVENTS_CONTENT_TYPE,
            message_type=record["type"],
            timestamp=record["time"],
        )
        metrics.events_published.labels(record["type"]).inc()

    return publish
