"""Transactional outbox: events are stored with the change that causes them and
published by a relay after the commit.

Nothing is published that was not committed (the relay only sees committed
records) and nothing committed is lost (a record stays until the broker has
confirmed it; the relay drains whatever is left when the service starts).
A record may be published twice (a crash between the confirm and the mark);
consumers are idempotent through their inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from servicekit.clock import Clock
from servicekit.mongo import IndexSpec, UnitOfWork

log = logging.getLogger(__name__)

OUTBOX = "outbox"
PUBLISHED_RETENTION = timedelta(days=7)

INDEXES = [
    IndexSpec(OUTBOX, [("published_at", 1), ("seq", 1)], name="pending_in_order"),
    IndexSpec(
        OUTBOX,
        [("published_at", 1)],
        name="expire_published",
        expire_after_seconds=int(PUBLISHED_RETENTION.total_seconds()),
        partial_filter={"published_at": {"$type": "date"}},
    ),
]

PublishFn = Callable[[dict[str, Any]], Awaitable[None]]


async def write_outbox(uow: UnitOfWork) -> None:
    """Store the unit of work's events in its transaction, in emission order."""
    if not uow.events:
        return
    base = time.time_ns()
    documents = [
        {
            "_id": str(event.id),
            "seq": base + position,
            "type": event.type,
            "routing_key": _routing_key(event.type),
            "correlation_id": event.correlationid,
            "time": event.time,
            "body": event.to_json_bytes(),
            "created_at": uow.clock.now(),
            "published_at": None,
        }
        for position, event in enumerate(uow.events)
    ]
    await uow.db[OUTBOX].insert_many(documents, session=uow.session)


def _routing_key(event_type: str) -> str:
    # nl.buurtsignaal.<service>.<event-name>.v<N>  ->  <service>.<event-name>.v<N>
    return event_type.removeprefix("nl.buurtsignaal.")


class OutboxRelay:
    """Publishes pending outbox records in order, woken by commits and by a timer."""

    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        publish: PublishFn,
        clock: Clock,
        *,
        poll_interval: float,
        on_backlog: Callable[[int], None] = lambda _: None,
        batch_size: int = 200,
    ) -> None:
        self._collection = db[OUTBOX]
        self._publish = publish
        self._clock = clock
        self._poll_interval = poll_interval
        self._on_backlog = on_backlog
        self._batch_size = batch_size
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._drain_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def notify(self) -> None:
        """Called after a commit: there is something to publish now."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self, timeout: float) -> bool:
        """Publish what is pending (within ``timeout``), then stop; False if some is left
        (it is published after the next start: nothing committed is lost).

        The relay is asked to stop, not cancelled: a publish cancelled after the broker
        took it but before its confirm came would be published again at the next start.
        """
        if self._task is None:
            return True
        deadline = time.monotonic() + timeout
        self._stopping.set()
        self._wake.set()
        done, _ = await asyncio.wait([self._task], timeout=timeout)
        if not done:
            self._task.cancel()
            await asyncio.wait([self._task], timeout=1)
        self._task = None
        try:
            await asyncio.wait_for(self.drain(), max(0.1, deadline - time.monotonic()))
        except Exception as error:  # broker or database away, or out of time
            log.warning("outbox not drained at stop", extra={"error": type(error).__name__})
            return False
        return True

    async def drain(self) -> int:
        """Publish every pending record; returns how many were published."""
        async with self._drain_lock:
            published = 0
            while batch := await self._pending():
                confirmed = []
                try:
                    for record in batch:
                        await self._publish(record)  # returns once the broker confirmed it
                        confirmed.append(record["_id"])
                finally:
                    await self._mark_published(confirmed)
                published += len(confirmed)
            return published

    async def _mark_published(self, ids: list[str]) -> None:
        if ids:
            await self._collection.update_many(
                {"_id": {"$in": ids}}, {"$set": {"published_at": self._clock.now()}}
            )

    async def backlog(self) -> int:
        return await self._collection.count_documents({"published_at": None})

    async def _pending(self) -> list[dict[str, Any]]:
        cursor = self._collection.find({"published_at": None}).sort("seq", 1)
        return await cursor.limit(self._batch_size).to_list()

    async def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_interval)
            self._wake.clear()
            try:
                await self.drain()
                self._on_backlog(await self.backlog())
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:  # broker or database down: keep trying
                failures += 1
                log.warning(
                    "outbox relay could not publish; will retry",
                    extra={"error": type(error).__name__, "consecutive_failures": failures},
                )
                with contextlib.suppress(TimeoutError):  # a stop ends the pause
                    await asyncio.wait_for(self._stopping.wait(), min(0.2 * 2**failures, 10.0))
