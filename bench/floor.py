"""The floor: the services' broker hops and database writes, with nothing else.

Plain aio-pika and plain PyMongo (async), three processes like three services, on the
same broker (a vhost of its own, the same topology: topic exchange, archive stream,
quorum queues) and the same database process (a database of its own):

    intake     POST /api/v1/signals (a bare ASGI app on uvicorn): one transaction
               {signal, outbox record} -> 201; then publish `signal-received` with
               publisher confirms and mark the record sent
    cases      consume `signal-received`: one transaction {inbox, case, outbox record},
               ack; then publish `case-opened` with confirms and mark it sent
    reporting  consume `case-opened`: one transaction {inbox, count fact}, ack; the
               count of report updates on /metrics

What the services do besides (validation, tokens, pseudonyms, identity lookups,
matching, audit log, idempotency records, teams and deadlines, notifications, the
other consumers of each event) is what the benchmark's ratio prices.

    python -m bench.floor intake|cases|reporting --amqp-url URL --mongodb-url URL [--port P]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import uvicorn
from prometheus_client import Counter, start_http_server
from pymongo import AsyncMongoClient, MongoClient
from pymongo.errors import DuplicateKeyError

from bench.load import CASE_OPENED_KEY, EVENTS_EXCHANGE, Target

SIGNAL_RECEIVED_KEY = "signals.signal-received.v1"
ARCHIVE_STREAM = "buurtsignaal.archive"
QUEUES = {"floor-cases": SIGNAL_RECEIVED_KEY, "floor-reporting": CASE_OPENED_KEY}
DATABASE = "bench_floor"
COLLECTIONS = ("signals", "cases", "outbox", "inbox", "report_facts")
PREFETCH = 50  # the services' default consumer_prefetch
REPORTS_UPDATED = Counter("floor_reports_updated", "case-opened events counted by reporting")

Writes = Callable[[Any], Awaitable[None]]


def now() -> datetime:
    return datetime.now(UTC)


async def in_transaction(client: AsyncMongoClient, writes: Writes) -> None:
    async with client.start_session() as session:
        await session.with_transaction(writes)


class Outbox:
    """Records written with the state change; published with confirms after the commit.
    No relay poll behind it: a publish that fails is not tried again (the benchmark
    would show the signal never reaching the report)."""

    def __init__(self, client: AsyncMongoClient, exchange: aio_pika.abc.AbstractExchange):
        self._outbox = client[DATABASE].outbox
        self._exchange = exchange
        self._relaying: set[asyncio.Task] = set()

    @staticmethod
    def record(routing_key: str, data: dict) -> dict:
        event_id = str(uuid.uuid4())
        event = {"id": event_id, "type": routing_key, "time": now().isoformat(), "data": data}
        return {"_id": event_id, "routing_key": routing_key, "event": event, "sent": False}

    def relay_soon(self, record: dict) -> None:
        task = asyncio.create_task(self._relay(record))
        self._relaying.add(task)
        task.add_done_callback(self._relaying.discard)

    async def _relay(self, record: dict) -> None:
        message = aio_pika.Message(
            json.dumps(record["event"]).encode(),
            message_id=record["_id"],
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await self._exchange.publish(message, record["routing_key"], mandatory=True)
        await self._outbox.update_one({"_id": record["_id"]}, {"$set": {"sent": True}})


async def connect(
    args: argparse.Namespace,
) -> tuple[AsyncMongoClient, aio_pika.abc.AbstractConnection, Outbox]:
    client: AsyncMongoClient = AsyncMongoClient(args.mongodb_url, tz_aware=True)
    connection = await aio_pika.connect_robust(args.amqp_url)
    publishing = await connection.channel(publisher_confirms=True)
    exchange = await publishing.get_exchange(EVENTS_EXCHANGE)
    return client, connection, Outbox(client, exchange)


# --- intake -------------------------------------------------------------------


async def accept_signal(
    client: AsyncMongoClient, outbox: Outbox, payload: dict, key: str
) -> tuple[int, dict]:
    signals = client[DATABASE].signals
    signal_id = str(uuid.uuid4())
    record = outbox.record(SIGNAL_RECEIVED_KEY, {"signal_id": signal_id})

    async def write(session: Any) -> None:
        signal = {"_id": key, "signal_id": signal_id, "signal": payload, "received_at": now()}
        await signals.insert_one(signal, session=session)
        await client[DATABASE].outbox.insert_one(record, session=session)

    try:
        await in_transaction(client, write)
    except DuplicateKeyError:  # the Idempotency-Key was seen: the same answer again
        existing = await signals.find_one({"_id": key})
        return 200, {"id": existing["signal_id"]}
    outbox.relay_soon(record)
    return 201, {"id": signal_id}


def intake_app(client: AsyncMongoClient, outbox: Outbox) -> Callable:
    async def app(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["method"] == "POST" and scope["path"] == "/api/v1/signals":
            headers = dict(scope["headers"])
            key = headers.get(b"idempotency-key", uuid.uuid4().hex.encode()).decode()
            status, body = await accept_signal(client, outbox, await _body(receive), key)
        elif scope["path"] == "/health":
            status, body = 200, {"status": "ok"}
        else:
            status, body = 404, {"status": "not found"}
        await _respond(send, status, body)

    return app


async def _body(receive: Callable) -> dict:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return json.loads(b"".join(chunks))


async def _respond(send: Callable, status: int, body: dict) -> None:
    content = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


async def run_intake(args: argparse.Namespace) -> None:
    client, _, outbox = await connect(args)
    config = uvicorn.Config(
        intake_app(client, outbox),
        host="127.0.0.1",
        port=args.port,
        lifespan="off",
        access_log=False,
        log_level="warning",
    )
    await uvicorn.Server(config).serve()


# --- the consumers ------------------------------------------------------------


async def open_case(client: AsyncMongoClient, outbox: Outbox, event: dict) -> None:
    db = client[DATABASE]
    case_id = str(uuid.uuid4())
    record = outbox.record(
        CASE_OPENED_KEY, {"signal_id": event["data"]["signal_id"], "case_id": case_id}
    )

    async def write(session: Any) -> None:
        await db.inbox.insert_one({"_id": f"cases:{event['id']}"}, session=session)
        case = {"_id": case_id, "signal_id": event["data"]["signal_id"], "opened_at": now()}
        await db.cases.insert_one(case, session=session)
        await db.outbox.insert_one(record, session=session)

    await in_transaction(client, write)
    outbox.relay_soon(record)


async def count_case(client: AsyncMongoClient, _: Outbox, event: dict) -> None:
    """A count fact per event, as reporting keeps them: no document that every
    concurrent transaction would fight over."""
    db = client[DATABASE]

    async def write(session: Any) -> None:
        await db.inbox.insert_one({"_id": f"reporting:{event['id']}"}, session=session)
        fact = {"_id": f"cases_opened:{event['id']}", "day": now().date().isoformat(), "value": 1}
        await db.report_facts.insert_one(fact, session=session)

    await in_transaction(client, write)
    REPORTS_UPDATED.inc()


Handler = Callable[[AsyncMongoClient, Outbox, dict], Awaitable[None]]


async def consume(args: argparse.Namespace, queue_name: str, handle: Handler) -> None:
    client, connection, outbox = await connect(args)
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=PREFETCH)
    queue = await channel.get_queue(queue_name)

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process(requeue=True):
            with contextlib.suppress(DuplicateKeyError):  # the inbox has seen it: done
                await handle(client, outbox, json.loads(message.body))

    await queue.consume(on_message)
    await asyncio.Future()  # until the process is stopped


async def run_cases(args: argparse.Namespace) -> None:
    await consume(args, "floor-cases", open_case)


async def run_reporting(args: argparse.Namespace) -> None:
    start_http_server(args.port, addr="127.0.0.1")
    await consume(args, "floor-reporting", count_case)


ROLES = {"intake": run_intake, "cases": run_cases, "reporting": run_reporting}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("role", choices=sorted(ROLES))
    parser.add_argument("--amqp-url", required=True)
    parser.add_argument("--mongodb-url", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(ROLES[args.role](args))


# --- started by the benchmark ---------------------------------------------------


async def declare_topology(amqp_url: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        events = await channel.declare_exchange(
            EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        archive = await channel.declare_queue(
            ARCHIVE_STREAM, durable=True, arguments={"x-queue-type": "stream"}
        )
        await archive.bind(events, "#")
        for name, key in QUEUES.items():
            queue = await channel.declare_queue(
                name, durable=True, arguments={"x-queue-type": "quorum"}
            )
            await queue.bind(events, key)


async def consumers_attached(amqp_url: str) -> bool:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for name in QUEUES:
            queue = await channel.declare_queue(name, passive=True)
            if not queue.declaration_result.consumer_count:
                return False
    return True


def create_collections(mongodb_url: str) -> None:
    """Up front: the stand-in reports false conflicts on first writes inside transactions."""
    client: MongoClient = MongoClient(mongodb_url)
    try:
        existing = set(client[DATABASE].list_collection_names())
        for name in COLLECTIONS:
            if name not in existing:
                client[DATABASE].create_collection(name)
    finally:
        client.close()


def reports_counted(metrics: str) -> int:
    for line in metrics.splitlines():
        if line.startswith("floor_reports_updated_total "):
            return int(float(line.split()[1]))
    return 0


@contextlib.contextmanager
def running_floor(workdir: Path, amqp_url: str, mongodb_url: str) -> Iterator[Target]:
    """The three floor processes, ready; stopped on leaving."""
    from servicekit.devstack.processes import free_port, wait_until

    asyncio.run(declare_topology(amqp_url))
    create_collections(mongodb_url)
    ports = {"intake": free_port(), "cases": 0, "reporting": free_port()}
    processes = {
        role: _spawn(role, port, amqp_url, mongodb_url, workdir) for role, port in ports.items()
    }
    try:
        intake = f"http://127.0.0.1:{ports['intake']}"
        metrics = f"http://127.0.0.1:{ports['reporting']}/metrics"
        wait_until(lambda: _answers(f"{intake}/health") and _answers(metrics), 60, "floor start")
        wait_until(lambda: asyncio.run(consumers_attached(amqp_url)), 60, "floor consumers")
        yield Target(
            name="floor",
            signals_url=f"{intake}/api/v1/signals",
            headers={},
            amqp_url=amqp_url,
            metrics_url=metrics,
            counted=reports_counted,
            processes={f"floor-{role}": p.pid for role, p in processes.items()},
        )
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(10)


def _spawn(
    role: str, port: int, amqp_url: str, mongodb_url: str, workdir: Path
) -> subprocess.Popen:
    command = [sys.executable, "-m", "bench.floor", role, "--amqp-url", amqp_url]
    command += ["--mongodb-url", mongodb_url, "--port", str(port)]
    root = Path(__file__).resolve().parents[1]
    with (workdir / f"floor-{role}.log").open("ab") as log:
        return subprocess.Popen(command, cwd=root, stdout=log, stderr=subprocess.STDOUT)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
