"""A service's dead-letter queue: what a dead letter says about itself, and the operator
tools to list them and to replay them once the cause is fixed.

Two ways into ``<service>.dlq``:

- the consumer sends a message there itself when its handler failed on every allowed
  delivery (``delivery-limit``) or can never succeed (``permanent-failure``), with headers
  saying why and how often (:func:`dead_letter_headers`), and then acknowledges it;
- the broker dead-letters what the service refused at once (``rejected``: the body cannot
  be parsed as the event, or no handler takes its type), and what exceeded the quorum
  queue's delivery limit when the consumer could not send it itself.

A replayed message goes back to the service's own queue only (through the default
exchange), not to the topic exchange: the other services and the archive already have it.
Its inbox makes a replay of an event that was in fact handled harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from servicekit.topology import dead_letter_queue

HEADER_PREFIX = "buurtsignaal-"
REASON = "buurtsignaal-dead-letter-reason"
ERROR = "buurtsignaal-error"
DELIVERIES = "buurtsignaal-deliveries"
DEAD_LETTERED_AT = "buurtsignaal-dead-lettered-at"

# What the broker's own reasons mean here (x-death "reason").
_BROKER_REASONS = {
    "rejected": "refused at once: the body is not this event (cannot be parsed), or no "
    "handler takes its type; see the service's log for the message id",
    "delivery_limit": "failed on every allowed delivery; see the service's log for the "
    "message id",
}


def dead_letter_headers(reason: str, error: str, deliveries: int) -> dict[str, Any]:
    """Why and how often, on a message the consumer dead-letters itself (no personal data:
    ``error`` is an exception type, or the text of a failure written for operators)."""
    return {
        REASON: reason,
        ERROR: error[:500],
        DELIVERIES: deliveries,
        DEAD_LETTERED_AT: datetime.now(UTC).isoformat(timespec="milliseconds"),
    }


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    event_type: str
    correlation_id: str
    reason: str  # delivery-limit, permanent-failure, rejected (by the broker's account)
    error: str  # why, as far as it is known
    deliveries: int | None  # how often the service got it; None: more than the limit
    dead_lettered_at: str

    @classmethod
    def of(cls, message: AbstractIncomingMessage) -> DeadLetter:
        headers = message.headers or {}
        deaths: list[dict[str, Any]] = list(headers.get("x-death") or [])
        death = deaths[-1] if deaths else {}
        common = {
            "message_id": str(message.message_id),
            "event_type": str(message.type),
            "correlation_id": str(message.correlation_id or ""),
        }
        if REASON in headers:  # the consumer said why itself
            return cls(
                **common,
                reason=str(headers[REASON]),
                error=str(headers.get(ERROR, "")),
                deliveries=int(headers.get(DELIVERIES) or 0),
                dead_lettered_at=str(headers.get(DEAD_LETTERED_AT, "")),
            )
        reason = str(death.get("reason", "unknown"))
        at = death.get("time")
        return cls(
            **common,
            reason=reason,
            error=_BROKER_REASONS.get(reason, ""),
            # The service rejects what it cannot parse on the first delivery.
            deliveries=1 if reason == "rejected" else None,
            dead_lettered_at=at.isoformat() if isinstance(at, datetime) else str(at or ""),
        )


@dataclass
class Replay:
    replayed: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)


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
) -> Replay:
    """Send dead letters back to ``service``'s queue: all, or those with these ids.

    Takes at most what the queue held when it began, and each message id once: a
    message that fails again while the replay runs comes back to the dead-letter
    queue and stays there, rather than going round for ever.
    """
    wanted = set(message_ids) if message_ids is not None else None
    result = Replay()
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        queue = await channel.declare_queue(dead_letter_queue(service), passive=True)
        waiting = queue.declaration_result.message_count or 0
        held = []
        for _ in range(waiting):
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                break
            message_id = str(message.message_id)
            if message_id in result.replayed or (wanted is not None and message_id not in wanted):
                held.append(message)
                continue
            await channel.default_exchange.publish(
                _fresh_copy(message), routing_key=service, mandatory=True
            )
            await message.ack()
            result.replayed.append(message_id)
        for message in held:
            await message.nack(requeue=True)
        await channel.close()
    finally:
        await connection.close()
    result.not_found = sorted((wanted or set()) - set(result.replayed))
    return result


def _fresh_copy(message: AbstractIncomingMessage) -> aio_pika.Message:
    """The message as it was first published: without the broker's x- headers and our
    dead-letter annotations, so its deliveries count from zero again."""
    headers = {
        k: v
        for k, v in (message.headers or {}).items()
        if not k.startswith("x-") and not k.startswith(HEADER_PREFIX)
    }
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
