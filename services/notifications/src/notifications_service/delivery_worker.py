"""The delivery worker: sends due e-mails and webhooks and records every attempt.

Loop: claim up to ``DELIVERY_CONCURRENCY`` due deliveries (each with a lease),
send them concurrently outside any transaction, then record each attempt and
its outcome in a transaction of its own - with ``notification-sent`` when it
went out. A failed attempt is tried again on the channel's schedule until it
is dead (see domain/deliveries.py).

What "once" means here: an event creates its deliveries once (the inbox and a
unique key see to that), and a delivery that is recorded as sent is never
sent again. The one gap left is a crash in the instant between the receiver's
"OK" and the recording of it: the lease then runs out and the message goes
out again, with the same Message-ID / webhook-id, so the receiver can tell.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from buurtsignaal_contracts.codes import NotificationChannel
from notifications_service.channels import SendResult
from notifications_service.channels.mail import Mailer
from notifications_service.channels.webhook import WebhookPoster
from notifications_service.dispatch import Cause, Dispatcher, notification_sent
from notifications_service.domain.deliveries import (
    AttemptOutcome,
    DeliveryStatus,
    RetrySchedule,
    after_attempt,
)
from notifications_service.metrics import NotificationMetrics
from notifications_service.store.deliveries import Attempt, Delivery, DeliveryQueue, DeliveryStore
from notifications_service.store.subscriptions import SUBSCRIPTIONS, Subscription
from servicekit import logs
from servicekit.clock import Clock
from servicekit.mongo import Transactions, UnitOfWork

if TYPE_CHECKING:
    from servicekit.app import ServiceRuntime

log = logging.getLogger(__name__)

# The kit gives background tasks 5 seconds to stop; sends under way get most of it.
STOP_GRACE_SECONDS = 4.0


class DeliveryWorker:
    def __init__(
        self,
        db: Any,
        transactions: Transactions,
        clock: Clock,
        dispatcher: Dispatcher,
        metrics: NotificationMetrics,
        *,
        mailer: Mailer | None,
        poster: WebhookPoster,
        schedules: dict[NotificationChannel, RetrySchedule],
        lease: timedelta,
        concurrency: int,
        poll_interval: float,
    ) -> None:
        self._db = db
        self._queue = DeliveryQueue(db)
        self._transactions = transactions
        self._clock = clock
        self._dispatcher = dispatcher
        self._metrics = metrics
        self._mailer = mailer
        self._poster = poster
        self._schedules = schedules
        self._lease = lease
        self._concurrency = concurrency
        self._poll_interval = poll_interval
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Until cancelled: keep up to ``concurrency`` sends under way, claim more as they end.

        A slow partner therefore holds one slot, not a whole round. On stop the
        sends under way are given a moment to finish and be recorded, so what went
        out is not sent again after a restart.
        """
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while True:
                free = self._concurrency - len(in_flight)
                claimed: list[tuple[Delivery, str]] = []
                if free > 0:
                    try:
                        claimed = await self._queue.claim_due(self._clock.now(), self._lease, free)
                    except Exception as error:  # database away: try again in a moment
                        log.warning("delivery claim failed", extra={"error": type(error).__name__})
                for delivery, claim in claimed:
                    task = asyncio.create_task(self.process(delivery, claim))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                if claimed and len(claimed) == free:
                    continue  # maybe more is due: claim again once a slot is free
                await self._idle(in_flight)
        finally:
            if in_flight:
                await asyncio.wait(in_flight, timeout=STOP_GRACE_SECONDS)

    async def _idle(self, in_flight: set[asyncio.Task[None]]) -> None:
        """Wait for a wake-up, a free slot or the poll interval, whichever comes first."""
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait(
                {woken, *in_flight},
                timeout=self._poll_interval,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            woken.cancel()
        self._wake.clear()

    async def _round(self) -> int:
        """Claim what is due now and send it; how many (for run_until_idle)."""
        claimed = await self._queue.claim_due(self._clock.now(), self._lease, self._concurrency)
        await asyncio.gather(*(self.process(d, claim) for d, claim in claimed))
        return len(claimed)

    async def run_until_idle(self, rounds: int = 1000) -> int:
        """Send everything that is due now (tests and operator commands)."""
        total = 0
        for _ in range(rounds):
            handled = await self._round()
            if handled == 0:
                return total
            total += handled
        return total

    async def process(self, delivery: Delivery, claim: str) -> None:
        token = logs.correlation_id.set(delivery.correlation_id)
        try:
            await self._process(delivery, claim)
        except Exception as error:  # e.g. the database went away before the recording
            # The claim's lease runs out and the delivery is tried again then.
            log.error(
                "delivery attempt not recorded; it is tried again when its lease ends",
                extra={"delivery_id": str(delivery.id), "error": type(error).__name__},
            )
        finally:
            logs.correlation_id.reset(token)

    async def _process(self, delivery: Delivery, claim: str) -> None:
        channel = delivery.channel
        context = {
            "delivery_id": str(delivery.id),
            "channel": channel.value,
            "topic": delivery.topic,
            "attempt": len(delivery.attempts) + 1,
        }
        if not await self._queue.still_claimed(delivery.id, claim):
            # Our lease ran out while we were held up and another worker has it now.
            log.warning("delivery claim lost before sending; left to its new owner", extra=context)
            return
        subscription = None
        if channel is NotificationChannel.WEBHOOK:
            subscription = await self._subscription(delivery)
            if subscription is None or not subscription.active:
                await self._transactions.run(lambda uow: DeliveryStore(uow).cancel(delivery, claim))
                log.info("webhook delivery cancelled: subscription gone", extra=context)
                return
        started = time.perf_counter()
        result = await self._send(delivery, subscription)
        elapsed = time.perf_counter() - started
        self._metrics.duration.labels(channel.value).observe(elapsed)
        now = self._clock.now()
        attempt = Attempt(
            number=len(delivery.attempts) + 1,
            at=now,
            outcome=result.outcome,
            duration_ms=round(elapsed * 1000, 1),
            error=result.error,
            status_code=result.status_code,
        )
        decision = after_attempt(result.outcome, delivery.tries + 1, self._schedules[channel], now)

        async def record(uow: UnitOfWork) -> bool:
            recorded = await DeliveryStore(uow).record(delivery, claim, attempt, decision, now)
            if recorded and decision.status is DeliveryStatus.SENT:
                cause = Cause(
                    uuid.UUID(delivery.cause_event_id),
                    delivery.cause_event_type,
                    delivery.correlation_id,
                )
                uow.emit(
                    notification_sent(
                        delivery.id,
                        channel,
                        delivery.recipient_kind,
                        delivery.recipient,
                        cause,
                        now,
                    )
                )
            return recorded

        if not await self._transactions.run(record, causation_id=delivery.cause_event_id):
            log.warning("delivery claim lost before its attempt was recorded", extra=context)
            return
        self._count(channel, result, decision.status)
        extra = {**context, "outcome": result.outcome.value, "status": decision.status.value}
        if result.error:
            extra["error"] = result.error
        level = logging.INFO if result.outcome is AttemptOutcome.SENT else logging.WARNING
        log.log(level, "delivery attempt", extra=extra)

    async def _send(self, delivery: Delivery, subscription: Subscription | None) -> SendResult:
        try:
            if delivery.channel is NotificationChannel.EMAIL:
                if self._mailer is None:
                    return SendResult(AttemptOutcome.FAILED, "email-disabled")
                return await self._mailer.send(delivery)
            assert subscription is not None
            secret = self._dispatcher.open_secret(subscription)
            return await self._poster.post(delivery, subscription.callback_url, secret)
        except Exception as error:  # a bug or an odd failure: still an attempt, still recorded
            log.exception("delivery attempt raised", extra={"delivery_id": str(delivery.id)})
            return SendResult(AttemptOutcome.FAILED, type(error).__name__)

    async def _subscription(self, delivery: Delivery) -> Subscription | None:
        assert delivery.webhook is not None
        doc = await self._db[SUBSCRIPTIONS].find_one({"_id": delivery.webhook.subscription_id})
        return Subscription.from_document(doc) if doc else None

    def _count(
        self, channel: NotificationChannel, result: SendResult, status: DeliveryStatus
    ) -> None:
        label = channel.value
        if result.outcome is AttemptOutcome.SENT:
            self._metrics.sent.labels(label).inc()
            return
        self._metrics.failed.labels(label).inc()
        if status is DeliveryStatus.PENDING:
            self._metrics.retried.labels(label).inc()
        elif status is DeliveryStatus.DEAD:
            self._metrics.dead.labels(label).inc()

    async def aclose(self) -> None:
        await self._poster.aclose()

    async def refresh_pending_gauge(self) -> None:
        pending = await self._queue.pending()
        for channel in (NotificationChannel.EMAIL, NotificationChannel.WEBHOOK):
            self._metrics.pending.labels(channel.value).set(pending.get(channel.value, 0))


async def run_delivery_worker(runtime: ServiceRuntime) -> None:
    worker = runtime.get(DeliveryWorker)
    try:
        await worker.run()
    finally:
        with contextlib.suppress(Exception):
            await worker.aclose()


async def refresh_delivery_gauges(runtime: ServiceRuntime, now: datetime) -> None:
    await runtime.get(DeliveryWorker).refresh_pending_gauge()
