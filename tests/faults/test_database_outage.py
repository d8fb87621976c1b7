"""The database process stops for about ten seconds under load and starts again (same
port, same data): the APIs answer 503 problem details quickly and store nothing, the
consumers hold their events instead of spending deliveries, and everything recovers
without a restart of any service."""

from __future__ import annotations

import asyncio
import time

import aio_pika
import httpx
import pytest

from buurtsignaal_contracts import new_event
from servicekit.devstack.processes import SERVICES
from servicekit.http.problems import PROBLEM_JSON
from servicekit.testing import eventually, metric_value, token_for
from servicekit.testing.event_factories import subject_erased
from servicekit.testing.events import publish
from servicekit.testing.load import percentile

pytestmark = pytest.mark.faults

OUTAGE_SECONDS = 10.0
QUICK = 2.0  # seconds: an answer during the outage comes within this, never a hang

ADMIN = token_for("admin-faults", "admin")
EVERY_TEAM = token_for(
    "w-faults",
    "worker",
    teams=["wot-centrum", "wot-oost", "wot-west", "wot-zuid", "wot-groenoord", "wot-noord"],
)
ANALYST = token_for("a-faults", "analyst")
READS = {  # one authenticated read per service
    "signals": ("/api/v1/signals", ADMIN),
    "cases": ("/api/v1/cases", ADMIN),
    "notifications": ("/api/v1/inbox", EVERY_TEAM),
    "reporting": ("/api/v1/reports/totals?first_day=2026-01-01&last_day=2026-12-31", ANALYST),
}
CONSUMERS = ("cases", "notifications", "reporting")


async def test_a_database_outage_answers_503_quickly_holds_events_and_recovers(
    fault_stack, witness, record_figures
):
    database = fault_stack.database
    before = {n: await _retries(fault_stack.url(n)) for n in SERVICES}
    processes = {n: s.process.pid for n, s in fault_stack.stack.services.items()}
    async with fault_stack.load() as load, httpx.AsyncClient(timeout=10) as client:
        await load.accepted_more(12)
        await asyncio.to_thread(database.stop)
        stopped_at = time.monotonic()
        # An event every consumer handles and none can store now (an erasure of someone
        # nobody knows: it changes no count): each must hold it, not fail it.
        await _publish_erasure(fault_stack.amqp_url)
        held = {
            n: await eventually(
                lambda n=n: _held(fault_stack.url(n)),
                lambda count: count >= 1,
                timeout=OUTAGE_SECONDS / 2,
                interval=0.2,
                what=f"{n} holding an event",
            )
            for n in CONSUMERS
        }
        probes = await _probe_while_down(fault_stack, client, stopped_at + OUTAGE_SECONDS)
        restarting_at = time.monotonic()
        await asyncio.to_thread(database.start)  # same port, same data directory
        back_at = time.monotonic()
        await load.accepted_more(24)
    fault_stack.assert_all_accepted(load)
    settle = await witness.settled()

    during = load.attempts_between(stopped_at, restarting_at)
    assert during, "the load kept submitting during the outage"
    assert {a.status for a in during} == {503}, "nothing accepted that could not be stored"
    assert all(a.content_type == PROBLEM_JSON for a in during)
    assert max(a.seconds for a in during) < QUICK
    for name, status, content_type, seconds in probes:
        assert (status, content_type) == (503, PROBLEM_JSON), name
        assert seconds < QUICK, f"{name} took {seconds:.2f}s"
    await witness.assert_every_accepted_signal_had_exactly_one_effect()
    resumed = {
        n: await metric_value(
            fault_stack.url(n), "buurtsignaal_consumer_database_holds_total", outcome="tried-again"
        )
        for n in CONSUMERS
    }
    exhausted = {
        n: await metric_value(
            fault_stack.url(n),
            "buurtsignaal_consumer_database_holds_total",
            outcome="patience-exhausted",
        )
        for n in CONSUMERS
    }
    retries = {n: await _retries(fault_stack.url(n)) - before[n] for n in SERVICES}
    first = load.first_accepted_after(back_at)
    record_figures(
        "database_outage",
        {
            "outage_s": round(restarting_at - stopped_at, 1),
            "database_restart_s": round(back_at - restarting_at, 2),
            "answers_during_outage": len(during),
            "probes_during_outage": len(probes),
            "503_seconds_p50": round(percentile([a.seconds for a in during], 0.5), 3),
            "503_seconds_max": round(max(a.seconds for a in during), 3),
            "read_503_seconds_max": round(max(p[3] for p in probes), 3),
            "back_to_first_accepted_s": round(first - back_at, 2) if first else -1,
            "effects_settled_after_load_s": round(settle, 1),
            "consumers_holding_during_outage": held,
            "consumer_holds_tried_again": resumed,
            "handler_retries_during_test": retries,
            "load": load.summary(),
        },
    )
    assert [await _held(fault_stack.url(n)) for n in CONSUMERS] == [0, 0, 0], "none holds now"
    running = {n: s.process.pid for n, s in fault_stack.stack.services.items()}
    assert running == processes, "recovered without a restart"
    assert all(s.process.poll() is None for s in fault_stack.stack.services.values())
    assert exhausted == dict.fromkeys(CONSUMERS, 0.0)
    assert retries == dict.fromkeys(SERVICES, 0.0), "no delivery was spent on the outage"


async def _probe_while_down(
    fault_stack, client: httpx.AsyncClient, until: float
) -> list[tuple[str, int, str, float]]:
    """Read every service's API (and its readiness) now and then while the database is down."""
    probes = []
    while time.monotonic() < until:
        for name, (path, headers) in READS.items():
            for what, url, auth in (
                (name, f"{fault_stack.url(name)}{path}", headers),
                (f"{name} ready", f"{fault_stack.url(name)}/health/ready", {}),
            ):
                started = time.monotonic()
                response = await client.get(url, headers=auth)
                probes.append(
                    (
                        what,
                        response.status_code,
                        response.headers.get("content-type", ""),
                        time.monotonic() - started,
                    )
                )
        await asyncio.sleep(0.5)
    return probes


async def _publish_erasure(amqp_url: str) -> None:
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        await publish(connection, new_event(subject_erased()))
    finally:
        await connection.close()


async def _held(base_url: str) -> float:
    return await metric_value(base_url, "buurtsignaal_consumer_held_for_database")


async def _retries(base_url: str) -> float:
    return await metric_value(base_url, "buurtsignaal_event_handler_retries_total")
