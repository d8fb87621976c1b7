"""Run one service in-process behind a real HTTP server (uvicorn) on a free loopback port.

``running_service`` talks to the app through httpx's ASGI transport, which
buffers whole responses. Tests that need a real connection use this instead:
a streaming response (Server-Sent Events), another service calling this one
over HTTP, or the graceful shutdown that uvicorn runs on SIGTERM
(:meth:`ServedService.terminate` does what the signal handler does).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import uvicorn

from servicekit.app import ServiceDefinition, ServiceRuntime, create_app
from servicekit.clock import Clock
from servicekit.devstack.processes import free_port
from servicekit.testing.service import _delete_queues


@dataclass
class ServedService:
    runtime: ServiceRuntime
    server: uvicorn.Server
    task: asyncio.Task[None]
    base_url: str
    client: httpx.AsyncClient

    @property
    def db(self):  # type: ignore[no-untyped-def]
        return self.runtime.mongo.db

    def terminate(self) -> None:
        """What SIGTERM does to a service run by uvicorn: begin the graceful shutdown."""
        self.server.handle_exit(signal.SIGTERM, None)
        # uvicorn raises a captured signal again once it has stopped (so the process
        # exits); here the process is the test run, which must live on.
        self.server._captured_signals.clear()

    async def stopped(self, timeout: float) -> None:
        """Wait until the server (and its lifespan shutdown) has finished."""
        await asyncio.wait_for(asyncio.shield(self.task), timeout)


@contextlib.asynccontextmanager
async def served(
    definition: ServiceDefinition, clock: Clock | None = None, *, start_timeout: float = 30.0
) -> AsyncIterator[ServedService]:
    """Start the service under uvicorn on 127.0.0.1 and a free port; stop it afterwards."""
    settings = definition.settings
    await _delete_queues(settings.amqp_url.get_secret_value(), definition.name)
    app = create_app(definition, clock)
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.graceful_timeout),
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(), name=f"uvicorn-{definition.name}")
    base_url = f"http://127.0.0.1:{port}"
    await _until_started(server, task, start_timeout)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            yield ServedService(app.state.runtime, server, task, base_url, client)
    finally:
        server.should_exit = True
        await asyncio.wait([task], timeout=settings.graceful_timeout + 10)
        if not task.done():
            server.force_exit = True
            await asyncio.wait([task], timeout=5)


async def _until_started(server: uvicorn.Server, task: asyncio.Task[None], timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it
            raise RuntimeError("the server stopped before it started")
        if asyncio.get_running_loop().time() > deadline:
            server.should_exit = True
            raise TimeoutError(f"the server did not start within {timeout}s")
        await asyncio.sleep(0.02)
