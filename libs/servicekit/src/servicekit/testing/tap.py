"""Listen to everything on the events exchange, as a test's witness."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from servicekit.testing.helpers import eventually
from servicekit.topology import declare_shared


class EventTap:
    """Collects every event published while it is open (exclusive queue bound to #)."""

    def __init__(self, connection: AbstractRobustConnection, binding: str = "#") -> None:
        self._connection = connection
        self._binding = binding
        self.messages: list[AbstractIncomingMessage] = []

    async def __aenter__(self) -> EventTap:
        self._channel = await self._connection.channel()
        events = await declare_shared(self._channel)
        queue = await self._channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(events, routing_key=self._binding)
        await queue.consume(self._collect)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._channel.close()

    async def _collect(self, message: AbstractIncomingMessage) -> None:
        await message.ack()
        self.messages.append(message)

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        bodies = [json.loads(m.body) for m in self.messages]
        return [b for b in bodies if event_type is None or b["type"] == event_type]

    async def wait_for(
        self,
        event_type: str,
        count: int = 1,
        where: Callable[[dict[str, Any]], bool] = lambda e: True,
        timeout: float = 20.0,
    ) -> list[dict[str, Any]]:
        async def matching() -> list[dict[str, Any]]:
            await asyncio.sleep(0)
            return [e for e in self.events(event_type) if where(e)]

        return await eventually(
            matching,
            lambda found: len(found) >= count,
            timeout=timeout,
            what=f"{count} x {event_type}",
        )
