"""The load generator and the watchers that see each signal's way through the chain.

Open loop: the i-th signal is sent at ``start + i / rate`` whether or not the earlier
ones were answered, so a slow system meets the same offered load as a fast one and
its slowness shows as latency and backlog (a closed loop would slow the load down
with it and hide both). Every signal is about a new synthetic youth, so each one
opens a case, and carries an ``Idempotency-Key`` of its own.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import aio_pika
import httpx

EVENTS_EXCHANGE = "buurtsignaal.events"
CASE_OPENED_KEY = "cases.case-opened.v1"
REPORT_POLL_SECONDS = 0.02


@dataclass
class Target:
    """What a system under test offers the benchmark: where to send signals, where
    `case-opened` is published, and how its reporting tells how many it counted."""

    name: str
    signals_url: str
    headers: dict[str, str]
    amqp_url: str
    metrics_url: str
    counted: Callable[[str], int]  # reports updated, read from the /metrics text
    processes: dict[str, int]  # the system's own processes: name -> pid
    retry_metrics_urls: list[str] = field(default_factory=list)  # transaction retries counted
    cores_at_rest: float = 0.0  # CPU its processes and the database use when idle


@dataclass
class Timeline:
    """When each signal passed each point (time.monotonic() seconds)."""

    offered: int = 0  # requests sent so far
    accepted: dict[str, float] = field(default_factory=dict)  # signal id -> 201 received
    sent_of: dict[str, float] = field(default_factory=dict)  # signal id -> request sent
    case_opened: dict[str, float] = field(default_factory=dict)  # signal id -> event seen
    case_order: list[str] = field(default_factory=list)  # signal ids in the order seen
    reported: list[float] = field(default_factory=list)  # when the k-th report update came
    errors: dict[str, int] = field(default_factory=dict)  # status or exception -> count


def synthetic_bsns() -> Iterator[str]:
    """Numbers of the test range 999xxxxxx that pass the 11-test, in order (~90,000)."""
    weights = (9, 8, 7, 6, 5, 4, 3, 2)
    for candidate in range(100_000):
        digits = f"999{candidate:05d}"
        check = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
        if check < 10:
            yield digits + str(check)


def signal_body(bsn: str, index: int) -> dict:
    """A school's signal about a nine-year-old: synthetic, and a new person each time."""
    return {
        "source_type": "school",
        "category": "behaviour-disobedience",
        "person": {
            "bsn": bsn,
            "date_of_birth": (date.today() - timedelta(days=9 * 365)).isoformat(),
            "postcode": "3124 XY",
            "house_number": str(index % 900 + 1),
        },
        "occurred_on": date.today().isoformat(),
    }


async def offer(
    target: Target,
    rate: float,
    seconds: float,
    bsns: Iterator[str],
    timeline: Timeline,
    stop: asyncio.Event,
) -> None:
    """Send ``rate * seconds`` signals at a fixed rate (open loop) until ``stop`` is set.
    Requests already sent are waited for, not abandoned: a client that hangs up
    mid-request leaves the service work (and transactions) that later runs would meet."""
    total = round(rate * seconds)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(headers=target.headers, timeout=60, limits=limits) as client:
        start = time.monotonic()

        async def one(index: int, bsn: str) -> None:
            await asyncio.sleep(max(0.0, start + index / rate - time.monotonic()))
            if stop.is_set():
                return
            await _send(client, target.signals_url, signal_body(bsn, index), timeline)

        await asyncio.gather(*(one(i, next(bsns)) for i in range(total)))


async def _send(client: httpx.AsyncClient, url: str, body: dict, timeline: Timeline) -> None:
    sent = time.monotonic()
    timeline.offered += 1
    try:
        response = await client.post(url, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    except httpx.HTTPError as error:
        _count_error(timeline, type(error).__name__)
        return
    if response.status_code != 201:
        _count_error(timeline, str(response.status_code))
        return
    signal_id = response.json()["id"]
    timeline.accepted[signal_id] = time.monotonic()
    timeline.sent_of[signal_id] = sent


def _count_error(timeline: Timeline, what: str) -> None:
    timeline.errors[what] = timeline.errors.get(what, 0) + 1


async def watch_case_opened(amqp_url: str, timeline: Timeline, ready: asyncio.Event) -> None:
    """Note when each `case-opened` passes the exchange (a queue of our own, bound to it)."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        exchange = await channel.get_exchange(EVENTS_EXCHANGE)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, CASE_OPENED_KEY)

        async def seen(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            signal_id = json.loads(message.body)["data"]["signal_id"]
            timeline.case_opened[signal_id] = time.monotonic()
            timeline.case_order.append(signal_id)

        await queue.consume(seen, no_ack=True)
        ready.set()
        await asyncio.Future()  # until cancelled
    finally:
        await connection.close()


async def watch_reports(target: Target, timeline: Timeline) -> None:
    """Note when reporting's count grows, by polling its /metrics.

    Reporting publishes nothing when it counts a case, and asking its database would
    load the process under test, so the benchmark reads the counter reporting exposes
    anyway, every 20 ms (the error this adds), and only while a `case-opened` seen is
    not yet counted. The k-th count is paired with the k-th `case-opened` seen: both
    follow the order of the queue closely.
    """
    async with httpx.AsyncClient(timeout=5) as client:
        baseline = target.counted((await client.get(target.metrics_url)).text)
        while True:
            await asyncio.sleep(REPORT_POLL_SECONDS)
            if len(timeline.reported) >= len(timeline.case_order):
                continue  # nothing outstanding: leave the process under test alone
            counted = target.counted((await client.get(target.metrics_url)).text) - baseline
            now = time.monotonic()
            timeline.reported.extend([now] * (counted - len(timeline.reported)))
