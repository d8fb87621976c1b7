"""The live feed behind the Server-Sent Events stream.

One MongoDB change stream per process watches inserts into the inbox
collection and hands each new item to the open streams that may see it. A
change stream sees commits of every replica, so a user connected to one
replica hears of an item that a consumer on another replica stored. A stream
that falls too far behind is closed; the client reconnects with
``Last-Event-ID`` and gets what it missed from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from notifications_service.metrics import NotificationMetrics
from notifications_service.store.notifications import NOTIFICATIONS, Notification

if TYPE_CHECKING:
    from servicekit.app import ServiceRuntime

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Listener:
    user: str
    teams: frozenset[str]
    queue: asyncio.Queue[Notification | None]
    overflowed: bool = False
    _feed: LiveFeed | None = field(default=None, repr=False)

    async def next(self) -> Notification | None:
        """The next item for this user, or None when the stream must end."""
        return await self.queue.get()

    def close(self) -> None:
        if self._feed is not None:
            self._feed.unsubscribe(self)
            self._feed = None


class LiveFeed:
    def __init__(self, db: Any, metrics: NotificationMetrics, *, queue_size: int) -> None:
        self._collection = db[NOTIFICATIONS]
        self._metrics = metrics
        self._queue_size = queue_size
        self._listeners: set[Listener] = set()
        self.watching = asyncio.Event()

    @property
    def open_streams(self) -> int:
        return len(self._listeners)

    def subscribe(self, user: str, teams: frozenset[str]) -> Listener:
        listener = Listener(user, teams, asyncio.Queue(self._queue_size), _feed=self)
        self._listeners.add(listener)
        self._metrics.live_streams.set(len(self._listeners))
        return listener

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners.discard(listener)
        self._metrics.live_streams.set(len(self._listeners))

    def publish(self, item: Notification) -> None:
        for listener in list(self._listeners):
            if not item.visible_to(listener.user, listener.teams):
                continue
            try:
                listener.queue.put_nowait(item)
            except asyncio.QueueFull:
                # Too slow a reader: end its stream; it catches up on reconnect.
                listener.overflowed = True
                self.unsubscribe(listener)
                _drop_oldest_and_end(listener.queue)

    def close(self) -> None:
        """End every open stream (the service stops)."""
        for listener in list(self._listeners):
            self.unsubscribe(listener)
            _drop_oldest_and_end(listener.queue)

    async def run(self) -> None:
        """Watch inserts until cancelled; resume after an interruption without a gap."""
        resume_token = None
        failures = 0
        try:
            while True:
                try:
                    pipeline = [{"$match": {"operationType": "insert"}}]
                    async with await self._collection.watch(
                        pipeline, resume_after=resume_token
                    ) as stream:
                        self.watching.set()
                        failures = 0
                        async for change in stream:
                            resume_token = change["_id"]
                            self.publish(Notification.from_document(change["fullDocument"]))
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    failures += 1
                    self.watching.clear()
                    log.warning(
                        "live feed interrupted; resuming",
                        extra={"error": type(error).__name__, "consecutive_failures": failures},
                    )
                    if failures > 3:
                        resume_token = None  # the token may be too old: start afresh
                    await asyncio.sleep(min(0.2 * 2**failures, 5.0))
        finally:
            self.watching.clear()
            self.close()


def _drop_oldest_and_end(queue: asyncio.Queue[Notification | None]) -> None:
    with contextlib.suppress(asyncio.QueueEmpty):
        while queue.full():
            queue.get_nowait()
    queue.put_nowait(None)


async def run_live_feed(runtime: ServiceRuntime) -> None:
    await runtime.get(LiveFeed).run()
