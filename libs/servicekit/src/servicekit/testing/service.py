"""Run one service in-process, on a real broker and database, for its API tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aio_pika
import httpx

from servicekit.app import ServiceDefinition, ServiceRuntime, create_app, start, stop
from servicekit.clock import Clock
from servicekit.topology import dead_letter_queue


@dataclass
class ServiceUnderTest:
    runtime: ServiceRuntime
    client: httpx.AsyncClient

    @property
    def db(self):  # type: ignore[no-untyped-def]
        return self.runtime.mongo.db


@contextlib.asynccontextmanager
async def running_service(
    definition: ServiceDefinition, clock: Clock | None = None, *, keep_queues: bool = False
) -> AsyncIterator[ServiceUnderTest]:
    """Start the service; its queue and dead-letter queue start empty, so messages
    left by an earlier test of the same service cannot leak into this one (unless
    ``keep_queues``: a test of what the previous run left behind)."""
    settings = definition.settings
    if not keep_queues:
        await _delete_queues(settings.amqp_url.get_secret_value(), definition.name)
    app = create_app(definition, clock)
    runtime: ServiceRuntime = app.state.runtime
    await start(runtime)
    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            yield ServiceUnderTest(runtime, client)
    finally:
        await stop(runtime)


async def _delete_queues(amqp_url: str, service: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        for name in (service, dead_letter_queue(service)):
            await channel.queue_delete(name)
    finally:
        await connection.close()
