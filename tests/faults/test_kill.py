"""kill -9 each service in turn while signals keep coming, and start it again: nothing is
lost and nothing happens twice (the outbox publishes what was committed, the broker
redelivers what was not acknowledged, the inbox absorbs what is delivered twice, and the
client's Idempotency-Key absorbs what it sent twice)."""

from __future__ import annotations

import asyncio
import time

import pytest

from servicekit.devstack.processes import SERVICES
from servicekit.testing import metric_value

pytestmark = pytest.mark.faults


async def test_kill_9_each_service_in_turn_loses_and_duplicates_nothing(
    fault_stack, witness, record_figures
):
    figures: dict[str, dict[str, float]] = {}
    async with fault_stack.load() as load:
        await load.accepted_more(12)
        for name in SERVICES:
            service = fault_stack.stack.services[name]
            killed_at = time.monotonic()
            service.kill()  # SIGKILL: no shutdown of any kind
            service.start()
            await asyncio.to_thread(service.wait_ready, 90)
            ready_at = time.monotonic()
            await load.accepted_more(12)
            figures[name] = {"killed_to_ready_s": round(ready_at - killed_at, 2)}
            first = load.first_accepted_after(ready_at)
            if name == "signals" and first is not None:  # when intake took signals again
                figures[name]["ready_to_first_accepted_s"] = round(first - ready_at, 2)
    fault_stack.assert_all_accepted(load)
    settle = await witness.settled()
    await witness.assert_every_accepted_signal_had_exactly_one_effect()
    for name in SERVICES:  # a redelivery that met the killed process's open transaction
        figures[name]["conflict_holds_after_restart"] = await metric_value(
            fault_stack.url(name), "buurtsignaal_consumer_database_holds_total", reason="conflict"
        )
    record_figures(
        "kill_9",
        {**figures, "load": load.summary(), "effects_settled_after_load_s": round(settle, 1)},
    )
    # No answer while signals was dead; 503 while a retried key met the transaction the
    # killed process left open (until the database aborts it); never a 4xx or a 500.
    answers = {a.status for a in load.attempts}
    assert answers <= {201, 503, None}, answers
