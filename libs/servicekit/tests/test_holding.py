"""A consumer holds its event while the database is away or the event's writes conflict with
a transaction a killed process left open: no delivery is spent, nothing is dead-lettered.
With a delivery limit of 2 and millisecond backoff, nacking would dead-letter at once."""

from __future__ import annotations

import time

import pytest
from pymongo import AsyncMongoClient

from buurtsignaal_contracts import new_event
from servicekit.devstack.processes import DatabaseProcess
from servicekit.inbox import INBOX
from servicekit.testing import eventually, queue_depth
from servicekit.testing.events import publish, signal_received
from servicekit.testing.sample import SERVICE, Probe, kit_definition
from servicekit.testing.service import running_service
from servicekit.topology import dead_letter_queue

pytestmark = pytest.mark.integration


def gauge(service, name: str) -> float:
    return service.runtime.metrics.registry.get_sample_value(name) or 0.0


def holds(service, reason: str) -> float:
    return (
        service.runtime.metrics.registry.get_sample_value(
            "buurtsignaal_consumer_database_holds_total",
            {"reason": reason, "outcome": "tried-again"},
        )
        or 0.0
    )


async def test_an_event_is_held_through_a_database_outage_and_handled_once_after(
    amqp_url, amqp_connection, tmp_path
):
    database = DatabaseProcess(tmp_path / "db", tmp_path / "db.log")
    url = database.start()
    probe = Probe()
    definition = kit_definition(
        amqp_url, url, "holding", probe, mongodb_timeout_ms=500, database_outage_patience=60
    )
    try:
        async with running_service(definition) as service:
            database.stop()
            await publish(amqp_connection, new_event(signal_received()))
            await eventually(
                lambda: _now(gauge(service, "buurtsignaal_consumer_held_for_database")),
                lambda held: held == 1,
                what="the consumer holding the event",
            )
            database.start()
            await eventually(
                lambda: service.db.counts.find_one({"_id": "signals"}),
                lambda counted: counted is not None and counted["n"] == 1,
                what="the event handled after the outage",
            )
            assert gauge(service, "buurtsignaal_consumer_held_for_database") == 0
            assert holds(service, "unreachable") >= 1
            retries = service.runtime.metrics.registry.get_sample_value(
                "buurtsignaal_event_handler_retries_total", {"event_type": signal_received_type()}
            )
            assert retries is None, "no delivery was spent"
        assert await queue_depth(amqp_connection, dead_letter_queue(SERVICE)) == 0
    finally:
        database.stop()


async def test_an_event_is_held_while_a_dead_process_transaction_holds_its_inbox_entry(
    amqp_url, amqp_connection, mongodb_url, database_name
):
    """What a kill -9 in the middle of a handler leaves: its transaction, open on the
    server until MongoDB aborts it (60 s). The redelivery conflicts with it meanwhile."""
    probe = Probe()
    definition = kit_definition(
        amqp_url, mongodb_url, database_name, probe, database_outage_patience=60
    )
    event = new_event(signal_received())
    client: AsyncMongoClient = AsyncMongoClient(mongodb_url, uuidRepresentation="standard")
    try:
        async with running_service(definition) as service:
            async with client.start_session() as dead_process:
                await dead_process.start_transaction()
                await client[database_name][INBOX].insert_one(
                    {"_id": f"{SERVICE}:{event.id}", "type": event.type}, session=dead_process
                )
                await publish(amqp_connection, event)
                await eventually(
                    lambda: _now(holds(service, "conflict")),
                    lambda count: count >= 1,
                    what="the consumer holding the conflicting event",
                )
                await dead_process.abort_transaction()  # what MongoDB does after 60 s
            await eventually(
                lambda: service.db.counts.find_one({"_id": "signals"}),
                lambda counted: counted is not None and counted["n"] == 1,
                what="the event handled once the transaction was gone",
            )
            assert gauge(service, "buurtsignaal_consumer_held_for_database") == 0
        assert await queue_depth(amqp_connection, dead_letter_queue(SERVICE)) == 0
    finally:
        await client.close()


def signal_received_type() -> str:
    return "nl.buurtsignaal.signals.signal-received.v1"


async def _now(value):
    return value


async def test_a_stop_lets_go_of_a_held_event_at_once_and_the_next_run_handles_it(
    amqp_url, amqp_connection, tmp_path
):
    database = DatabaseProcess(tmp_path / "db", tmp_path / "db.log")
    url = database.start()
    probe = Probe()
    definition = kit_definition(
        amqp_url, url, "stop-holding", probe, mongodb_timeout_ms=500, database_outage_patience=60
    )
    try:
        async with running_service(definition) as service:
            database.stop()
            await publish(amqp_connection, new_event(signal_received()))
            await eventually(
                lambda: _now(gauge(service, "buurtsignaal_consumer_held_for_database")),
                lambda held: held == 1,
                what="the consumer holding the event",
            )
            runtime = service.runtime
            started = time.monotonic()
        # running_service has stopped the service (graceful_timeout 10 s) here.
        took = time.monotonic() - started
        assert took < 5, f"the held event kept the stop waiting {took:.1f}s"
        # Not a clean stop (exit code 1): with the database away the outbox could not be
        # checked. The held event went back to the queue as it was.
        assert runtime.stopped_cleanly is False
        database.start()
        async with running_service(definition, keep_queues=True) as again:
            await eventually(
                lambda: again.db.counts.find_one({"_id": "signals"}),
                lambda counted: counted is not None and counted["n"] == 1,
                what="the event handled by the next run",
            )
        assert await queue_depth(amqp_connection, dead_letter_queue(SERVICE)) == 0
    finally:
        database.stop()
