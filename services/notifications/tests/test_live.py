"""The live stream (Server-Sent Events) over a real HTTP connection: uvicorn on a loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sse_starlette.sse import AppStatus

from buurtsignaal_contracts import new_event
from notifications_service.app import definition
from notifications_service.channels.live import LiveFeed
from servicekit.testing import eventually, token_for
from servicekit.testing.events import case_opened, publish
from servicekit.testing.server import served

pytestmark = pytest.mark.integration

WEST = token_for("w-west", "worker", teams=["wot-west"])
NOORD = token_for("w-noord", "worker", teams=["wot-noord"])


@pytest.fixture
async def live(make_settings):
    async with served(definition(make_settings(live_ping_seconds=0.5))) as service:
        yield service


class Stream:
    """An EventSource client: parses the stream into events as they arrive."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.events: list[dict] = []
        self.pings = 0
        self.ended = False
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        event: dict = {}
        try:
            async for line in self.response.aiter_lines():
                if line == "":
                    if "event" in event or "data" in event:
                        self.events.append(event)
                    event = {}
                elif line.startswith(":"):
                    self.pings += 1
                else:
                    field, _, value = line.partition(":")
                    event[field] = value.removeprefix(" ")
        except httpx.HTTPError:
            pass
        self.ended = True

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e.get("event") == kind]

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


@contextlib.asynccontextmanager
async def open_stream(service, headers, **extra) -> AsyncIterator[Stream]:
    async with service.client.stream(
        "GET", "/api/v1/inbox/stream", headers={**headers, **extra}, timeout=None
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = Stream(response)
        try:
            await eventually(lambda: _now(stream.of("ready")), what="the stream to be ready")
            yield stream
        finally:
            await stream.close()


async def test_a_new_item_arrives_live_and_only_for_those_who_may_see_it(live, amqp_connection):
    async with open_stream(live, WEST) as west, open_stream(live, NOORD) as noord:
        event = new_event(case_opened())
        await publish(amqp_connection, event)
        (pushed,) = await eventually(lambda: _now(west.of("notification")), what="the live item")
        item = json.loads(pushed["data"])
        assert item["case_id"] == str(event.data.case_id) and item["topic"] == "case-opened"
        assert pushed["id"] == item["id"]
        assert west.of("ready")[0]["retry"] == "3000"
        # Noord hears of its own case, and of nothing before it (one feed, in order).
        theirs = new_event(case_opened(team="wot-noord", district="noord"))
        await publish(amqp_connection, theirs)
        (only,) = await eventually(lambda: _now(noord.of("notification")), what="noord's item")
        assert json.loads(only["data"])["case_id"] == str(theirs.data.case_id)
        assert len(west.of("notification")) == 1
        await eventually(lambda: _now(noord.pings), what="a keep-alive comment")


async def test_a_reconnecting_client_gets_what_it_missed(live, amqp_connection):
    first, second, third = (new_event(case_opened()) for _ in range(3))
    await publish(amqp_connection, first)
    (seen,) = await eventually(lambda: _inbox(live, WEST), what="the first item")
    await publish(amqp_connection, second, third)
    inbox = await eventually(lambda: _inbox(live, WEST), lambda items: len(items) == 3)
    async with open_stream(live, WEST, **{"Last-Event-ID": seen["id"]}) as stream:
        missed = await eventually(
            lambda: _now(stream.of("notification")), lambda e: len(e) == 2, what="the backlog"
        )
    # The two events are handled concurrently, so either may be stored first: the stream
    # replays in the order the inbox holds them (the inbox lists newest first).
    stored_oldest_first = [item["id"] for item in reversed(inbox) if item["id"] != seen["id"]]
    assert [e["id"] for e in missed] == stored_oldest_first, "oldest first"
    cases = {json.loads(e["data"])["case_id"] for e in missed}
    assert cases == {str(second.data.case_id), str(third.data.case_id)}


async def test_a_stream_ends_when_its_token_expires(live):
    short_lived = token_for("w-west", "worker", teams=["wot-west"], ttl_seconds=2)
    async with open_stream(live, short_lived) as stream:
        await eventually(lambda: _now(stream.ended), timeout=10, what="the stream to end")
    assert stream.of("token-expired"), "the client is told to come back with a fresh token"
    assert live.runtime.get(LiveFeed).open_streams == 0, "nothing of it stays subscribed"


async def test_a_stopping_service_ends_open_streams_at_once_instead_of_waiting_for_them(
    live, amqp_connection
):
    try:
        async with open_stream(live, WEST) as stream:
            started = time.monotonic()
            live.terminate()  # what SIGTERM does
            await eventually(lambda: _now(stream.ended), what="the stream to end", timeout=8)
            await live.stopped(timeout=8)
            took = time.monotonic() - started
            assert stream.of("shutdown"), "a farewell event tells the client to reconnect"
            assert took < live.runtime.settings.graceful_timeout / 2, (
                f"the stream held the shutdown for {took:.1f}s"
            )
    finally:
        AppStatus.should_exit = False  # sse-starlette's flag is process-wide


async def _inbox(service, headers) -> list[dict]:
    return (await service.client.get("/api/v1/inbox", headers=headers)).json()["items"]


async def _now(value):
    return value
