"""RabbitMQ stops (``rabbitmqctl stop_app``) for about ten seconds under load and starts
again (``start_app``): intake goes on (a signal and its events are stored together; the
outbox publishes them later), every service reconnects by itself, and nothing is lost or
done twice.

It restarts the whole broker, so it is skipped where other people share it
(BUURTSIGNAAL_SHARED_BROKER=1, as on the development machines here); CI and a machine of
one's own run it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time

import pytest

from servicekit.devstack.processes import broker_reachable, wait_until

pytestmark = [
    pytest.mark.faults,
    pytest.mark.skipif(
        os.environ.get("BUURTSIGNAAL_SHARED_BROKER") == "1",
        reason="restarts RabbitMQ, which others use too (BUURTSIGNAAL_SHARED_BROKER=1)",
    ),
    pytest.mark.skipif(
        shutil.which("rabbitmqctl") is None, reason="needs rabbitmqctl on this machine"
    ),
]

OUTAGE_SECONDS = 10.0


def rabbitmqctl(command: str) -> None:
    subprocess.run(["rabbitmqctl", command], check=True, capture_output=True, timeout=120)


async def test_a_broker_restart_under_load_loses_and_duplicates_nothing(
    fault_stack, witness, record_figures
):
    services = fault_stack.stack.services
    async with fault_stack.load() as load:
        await load.accepted_more(12)
        try:
            await asyncio.to_thread(rabbitmqctl, "stop_app")
            stopped_at = time.monotonic()
            # Intake needs only the database: signals are accepted during the outage.
            await load.accepted_more(12, timeout=OUTAGE_SECONDS)
            await asyncio.sleep(max(0.0, stopped_at + OUTAGE_SECONDS - time.monotonic()))
        finally:
            restarting_at = time.monotonic()
            await asyncio.to_thread(rabbitmqctl, "start_app")
        await asyncio.to_thread(
            wait_until,
            lambda: broker_reachable(fault_stack.amqp_url),
            60,
            "RabbitMQ accepting connections",
            1,
        )
        back_at = time.monotonic()
        for service in services.values():  # ready = database and broker reachable again
            await asyncio.to_thread(service.wait_ready, 120)
        ready_at = time.monotonic()
        await load.accepted_more(24)
    fault_stack.assert_all_accepted(load)
    settle = await witness.settled()
    await witness.assert_every_accepted_signal_had_exactly_one_effect()
    during = load.attempts_between(stopped_at, restarting_at)
    record_figures(
        "broker_restart",
        {
            "outage_s": round(restarting_at - stopped_at, 1),
            "start_app_to_broker_reachable_s": round(back_at - restarting_at, 2),
            "broker_to_all_services_ready_s": round(ready_at - back_at, 2),
            "accepted_during_outage": sum(1 for a in during if a.status == 201),
            "effects_settled_after_load_s": round(settle, 1),
            "load": load.summary(),
        },
    )
    # Intake does not depend on the broker (no answer: a keep-alive connection the
    # server had just closed; the client sent again).
    assert {a.status for a in during} <= {201, None}
