"""Operator tools for a service's dead-letter queue: list, and replay once fixed.

A replayed message goes back to the service's own queue only (through the
default exchange), not to the topic exchange: the other services and the
archive already have it. Its inbox makes a replay of an event that was in
fact handled harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from servicekit.topology import dead_letter_queue


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    event_type: str
    reason: str
    deliveries: int
    first_death: str

    @classmethod
    def of(cls, message: AbstractIncomingMessage) -> DeadLetter:
        deaths: list[dict[str, Any]] = list((message.headers or {}).get("x-death") or [])
        first = deaths[-1] if deaths else {}
        return cls(
            message_id=str(message.message_id),
            event_type=str(message.type),
            reason=str(first.get("reason", "unknown")),
            deliveries=int((message.headers or {}).get("x-delivery-count") or 0),
            first_death=str(first.get("time", "")),
        )


async def list_dead_letters(amqp_url: str, service: str, limit: int = 1000) -> list[DeadLetter]:
    """Look without taking: every message is returned to the queue afterwards."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(dead_letter_queue(service), passive=True)
        seen = []
        while len(seen) < limit and (message := await queue.get(no_ack=False, fail=False)):
            seen.append(DeadLetter.of(message))
        await channel.close()  # unacknowledged messages go back to the queue
        return seen
    finally:
        await connection.close()


async def replay_dead_letters(
    amqp_url: str, service: str, message_ids: Iterable[str] | None = None
) -> list[str]:
    """Send dead letters back to ``service``'s queue (all, or those with these ids)."""
    wanted = set(message_ids) if message_ids is not None else None
    replayed = []
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        queue = await channel.declare_queue(dead_letter_queue(service), passive=True)
        held = []
        while message := await queue.get(no_ack=False, fail=False):
            if wanted is not None and message.message_id not in wanted:
                held.append(message)
                continue
            await channel.default_exchange.publish(
                _fresh_copy(message), routing_key=service, mandatory=True
            )
            await message.ack()
            replayed.append(str(message.message_id))
        for message in held:
            await message.nack(requeue=True)
        await channel.close()
    finally:
        await connection.close()
    return replayed


def _fresh_copy(message: AbstractIncomingMessage) -> aio_pika.Message:
    headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-")}
    return aio_pika.Message(
        body=message.body,
        headers=headers,
        content_type=message.content_type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        timestamp=message.timestamp,
        type=message.type,
        app_id=message.app_id,
    )
