"""RabbitMQ topology, declared by every service at start-up (idempotently).

    buurtsignaal.events   topic exchange; routing key <service>.<event-name>.v<N>
      ├─ #                → buurtsignaal.archive   (stream: every event, for replay)
      └─ consumed keys    → <service>              (quorum queue, one per consumer)
                                 │ after the delivery limit, or on reject
                                 ▼
    buurtsignaal.dlx      direct exchange; routing key <service>
      └─ <service>        → <service>.dlq          (classic queue; operator replays)

Declared with aio-pika directly because FastStream binds a queue to one key
only and does not declare streams with the arguments needed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractRobustConnection

EVENTS_EXCHANGE = "buurtsignaal.events"
DEAD_LETTER_EXCHANGE = "buurtsignaal.dlx"
ARCHIVE_STREAM = "buurtsignaal.archive"


def dead_letter_queue(service: str) -> str:
    return f"{service}.dlq"


@dataclass(frozen=True)
class ServiceQueue:
    """The durable quorum queue of one consuming service."""

    service: str
    routing_keys: tuple[str, ...]
    delivery_limit: int

    @property
    def name(self) -> str:
        return self.service

    def arguments(self) -> dict[str, Any]:
        return {
            "x-queue-type": "quorum",
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": self.service,
            # at-least-once dead-lettering: a dead letter is not dropped when
            # the DLQ is briefly unavailable (needs reject-publish overflow).
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }


async def declare_shared(channel: AbstractChannel) -> aio_pika.abc.AbstractExchange:
    """The exchanges and the archive stream that all services share."""
    events = await channel.declare_exchange(
        EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
    )
    await channel.declare_exchange(DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True)
    archive = await channel.declare_queue(
        ARCHIVE_STREAM, durable=True, arguments={"x-queue-type": "stream"}
    )
    await archive.bind(events, routing_key="#")
    return events


async def declare_service_queue(channel: AbstractChannel, queue: ServiceQueue) -> None:
    events = await channel.get_exchange(EVENTS_EXCHANGE)
    dlx = await channel.get_exchange(DEAD_LETTER_EXCHANGE)
    # A classic queue: it has no delivery limit of its own (quorum queues in
    # RabbitMQ 4 default to 20), so listing and holding back dead letters during
    # a replay can never drop one.
    dlq = await channel.declare_queue(
        dead_letter_queue(queue.service), durable=True, arguments={"x-queue-type": "classic"}
    )
    await dlq.bind(dlx, routing_key=queue.service)
    declared = await channel.declare_queue(queue.name, durable=True, arguments=queue.arguments())
    for key in queue.routing_keys:
        await declared.bind(events, routing_key=key)


async def declare_topology(
    connection: AbstractRobustConnection, queues: Iterable[ServiceQueue]
) -> None:
    async with connection.channel() as channel:
        await declare_shared(channel)
        for queue in queues:
            await declare_service_queue(channel, queue)


async def queue_depth(channel: AbstractChannel, name: str) -> int:
    """Messages ready in a queue (passive declare: never creates it)."""
    queue = await channel.declare_queue(name, passive=True, robust=False)
    return queue.declaration_result.message_count or 0
