"""Outbox, inbox, retries, dead letters and shutdown, on the real broker and database."""

from __future__ import annotations

import asyncio
import json
import uuid

import aio_pika
import pytest

from buurtsignaal_contracts import CLOUDEVENTS_CONTENT_TYPE, new_event
from servicekit.deadletters import list_dead_letters, replay_dead_letters
from servicekit.messaging import PermanentFailure
from servicekit.outbox import OUTBOX
from servicekit.testing import eventually, queue_depth
from servicekit.testing.events import publish, signal_received
from servicekit.testing.sample import SERVICE, Probe, kit_definition
from servicekit.testing.service import running_service
from servicekit.testing.tap import EventTap
from servicekit.topology import declare_shared

pytestmark = pytest.mark.integration

TYPE = "nl.buurtsignaal.signals.signal-received.v1"


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def definition(amqp_url, mongodb_url, database_name, probe):
    return kit_definition(amqp_url, mongodb_url, database_name, probe)


async def publish_raw(connection, body: bytes, message_id: str, event_type: str = TYPE) -> None:
    channel = await connection.channel(publisher_confirms=True)
    exchange = await declare_shared(channel)
    await exchange.publish(
        aio_pika.Message(
            body,
            message_id=message_id,
            type=event_type,
            content_type=CLOUDEVENTS_CONTENT_TYPE,
            delivery_mode=2,
        ),
        routing_key="signals.signal-received.v1",
    )
    await channel.close()


async def test_a_committed_event_is_published_persistent_confirmed_and_described(
    definition, amqp_connection
):
    async with running_service(definition) as service, EventTap(amqp_connection) as tap:
        response = await service.client.post("/emit")
        event_id = response.json()["event_id"]
        (event,) = await tap.wait_for(TYPE, where=lambda e: e["id"] == event_id)
        message = next(m for m in tap.messages if m.message_id == event_id)
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert message.content_type == CLOUDEVENTS_CONTENT_TYPE
        assert message.type == TYPE
        assert message.routing_key == "signals.signal-received.v1"
        assert event["source"] == "urn:buurtsignaal:signals" and event["specversion"] == "1.0"
        record = await eventually(
            lambda: service.db[OUTBOX].find_one({"_id": event_id}),
            lambda r: r is not None and r["published_at"] is not None,
            what="the outbox record marked published",
        )
        assert record["routing_key"] == "signals.signal-received.v1"


async def test_a_rolled_back_change_publishes_nothing(definition, amqp_connection):
    async with running_service(definition) as service, EventTap(amqp_connection) as tap:
        failed = await service.client.post("/emit", params={"fail": "true"})
        assert failed.status_code == 500
        assert failed.headers["content-type"] == "application/problem+json"
        later = (await service.client.post("/emit")).json()["event_id"]
        # The relay publishes in commit order: once the later event is out,
        # anything the failed transaction emitted would have been out too.
        await tap.wait_for(TYPE, where=lambda e: e["id"] == later)
        assert [e["id"] for e in tap.events(TYPE)] == [later]
        assert await service.db[OUTBOX].count_documents({}) == 1
        assert await service.db.things.count_documents({}) == 1


async def test_the_relay_publishes_what_an_earlier_run_left_behind(
    definition, amqp_connection, mongo_client, database_name
):
    stranded = new_event(signal_received())
    await mongo_client[database_name][OUTBOX].insert_one(
        {
            "_id": str(stranded.id),
            "seq": 1,
            "type": stranded.type,
            "routing_key": "signals.signal-received.v1",
            "correlation_id": stranded.correlationid,
            "time": stranded.time,
            "body": stranded.to_json_bytes(),
            "created_at": stranded.time,
            "published_at": None,
        }
    )
    async with EventTap(amqp_connection) as tap, running_service(definition):
        await tap.wait_for(TYPE, where=lambda e: e["id"] == str(stranded.id))


async def test_a_redelivered_event_changes_nothing(definition, amqp_connection, probe):
    event = new_event(signal_received())
    async with running_service(definition) as service:
        await publish(amqp_connection, event)
        await publish(amqp_connection, event)
        duplicates = service.runtime.metrics.duplicates_ignored.labels(TYPE)
        await eventually(
            lambda: asyncio.sleep(0, duplicates._value.get()),
            lambda v: v == 1,
            what="the second delivery being recognised",
        )
        counts = await service.db.counts.find_one({"_id": "signals"})
        assert counts["n"] == 1
        assert probe.calls == 1


async def test_a_failing_handler_is_retried_then_dead_lettered_and_replayed_once_fixed(
    definition, amqp_connection, amqp_url, probe
):
    probe.fail = True
    event = new_event(signal_received())
    async with running_service(definition) as service:
        await publish(amqp_connection, event)
        await eventually(
            lambda: queue_depth(amqp_connection, f"{SERVICE}.dlq"),
            lambda n: n == 1,
            what="the message in the dead-letter queue",
        )
        assert probe.calls == 3, "first delivery plus delivery_limit=2 redeliveries"
        assert service.runtime.metrics.handler_retries.labels(TYPE)._value.get() == 3
        gauge = service.runtime.metrics.dead_letters.labels(f"{SERVICE}.dlq")
        await eventually(
            lambda: asyncio.sleep(0, gauge._value.get()),
            lambda v: v == 1,
            what="the dead-letter gauge",
        )

        (letter,) = await list_dead_letters(amqp_url, SERVICE)
        assert letter.message_id == str(event.id) and letter.event_type == TYPE
        assert (letter.reason, letter.deliveries) == ("delivery-limit", 3)
        assert letter.error == "RuntimeError", "the type only: its text might quote data"
        assert await queue_depth(amqp_connection, f"{SERVICE}.dlq") == 1, "listing takes nothing"
        dead = service.runtime.metrics.dead_lettered.labels(TYPE, "delivery-limit")
        assert dead._value.get() == 1

        probe.fail = False
        assert (await replay_dead_letters(amqp_url, SERVICE)).replayed == [str(event.id)]
        await eventually(
            lambda: service.db.counts.find_one({"_id": "signals"}),
            lambda c: c is not None and c["n"] == 1,
            what="the replayed event handled",
        )
        assert await queue_depth(amqp_connection, f"{SERVICE}.dlq") == 0


async def test_a_permanent_failure_is_dead_lettered_at_once_saying_why(
    definition, amqp_connection, amqp_url, probe
):
    probe.error = PermanentFailure("case c-1 is unknown here")
    event = new_event(signal_received())
    async with running_service(definition) as service:
        await publish(amqp_connection, event)
        await eventually(
            lambda: queue_depth(amqp_connection, f"{SERVICE}.dlq"),
            lambda n: n == 1,
            what="the message in the dead-letter queue",
        )
        (letter,) = await list_dead_letters(amqp_url, SERVICE)
        assert (letter.message_id, letter.reason, letter.deliveries) == (
            str(event.id),
            "permanent-failure",
            1,
        )
        assert letter.error == "PermanentFailure: case c-1 is unknown here"
        assert probe.calls == 1, "not retried"
        dead = service.runtime.metrics.dead_lettered.labels(TYPE, "permanent-failure")
        assert dead._value.get() == 1


async def test_a_replay_takes_each_message_once_and_names_ids_it_did_not_find(
    definition, amqp_connection, amqp_url, probe
):
    probe.error = PermanentFailure("still broken")
    first, second = new_event(signal_received()), new_event(signal_received())
    async with running_service(definition):
        await publish(amqp_connection, first, second)
        await eventually(
            lambda: queue_depth(amqp_connection, f"{SERVICE}.dlq"),
            lambda n: n == 2,
            what="both in the dead-letter queue",
        )
        replay = await replay_dead_letters(amqp_url, SERVICE, [str(first.id), "no-such-id"])
        assert (replay.replayed, replay.not_found) == ([str(first.id)], ["no-such-id"])
        await eventually(lambda: asyncio.sleep(0, probe.calls), lambda n: n == 3, what="replayed")
        await eventually(
            lambda: queue_depth(amqp_connection, f"{SERVICE}.dlq"),
            lambda n: n == 2,
            what="the one still broken back in the dead-letter queue",
        )
        # Fails again at once while the replay of all runs: each one goes round only once.
        replay = await replay_dead_letters(amqp_url, SERVICE)
        assert sorted(replay.replayed) == sorted([str(first.id), str(second.id)])


async def test_a_message_that_cannot_be_parsed_is_dead_lettered_at_once(
    definition, amqp_connection, amqp_url, probe
):
    async with running_service(definition) as service:
        await publish_raw(amqp_connection, b"{not json", message_id=str(uuid.uuid4()))
        body = json.dumps({"specversion": "1.0", "type": TYPE, "data": {}}).encode()
        await publish_raw(amqp_connection, body, message_id=str(uuid.uuid4()))
        await eventually(
            lambda: queue_depth(amqp_connection, f"{SERVICE}.dlq"),
            lambda n: n == 2,
            what="both messages in the dead-letter queue",
        )
        assert probe.calls == 0
        assert service.runtime.metrics.handler_retries.labels(TYPE)._value.get() == 0
        letters = await list_dead_letters(amqp_url, SERVICE)
        assert {(x.reason, x.deliveries) for x in letters} == {("rejected", 1)}
        assert all("cannot be parsed" in x.error for x in letters)


async def test_a_message_of_a_type_without_handler_is_dead_lettered(definition, amqp_connection):
    async with running_service(definition):
        channel = await amqp_connection.channel()
        await channel.default_exchange.publish(
            aio_pika.Message(b"{}", message_id="odd-1", type="nl.buurtsignaal.x.unknown.v1"),
            routing_key=SERVICE,
        )
        await eventually(
            lambda: queue_depth(amqp_connection, f"{SERVICE}.dlq"),
            lambda n: n == 1,
            what="the unhandled message in the dead-letter queue",
        )


async def test_shutdown_finishes_the_message_in_flight(
    definition, amqp_connection, probe, mongo_client, database_name
):
    probe.release = asyncio.Event()
    async with running_service(definition):
        await publish(amqp_connection, new_event(signal_received()))
        await asyncio.wait_for(probe.started.wait(), 20)
        # Stop while the handler is busy; let it finish a moment later.
        asyncio.get_running_loop().call_later(0.3, probe.release.set)
    # running_service has stopped the service here.
    assert (await mongo_client[database_name].counts.find_one({"_id": "signals"}))["n"] == 1
    assert await queue_depth(amqp_connection, SERVICE) == 0
    assert probe.calls == 1
