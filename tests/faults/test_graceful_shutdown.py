"""SIGTERM each service in turn while signals keep coming: it stops taking work, finishes
what is in flight (HTTP requests answered, messages handled and acknowledged, the outbox
published) within GRACEFUL_TIMEOUT, exits 0, and nothing is lost or done twice."""

from __future__ import annotations

import asyncio
import json
import signal
import time

import pytest

from servicekit.devstack.processes import SERVICES, ServiceProcess
from servicekit.testing import metric_value

pytestmark = pytest.mark.faults


async def test_sigterm_under_load_finishes_in_flight_work_in_time_and_loses_nothing(
    fault_stack, witness, record_figures
):
    grace = fault_stack.graceful_timeout
    figures: dict[str, dict[str, float]] = {}
    async with fault_stack.load() as load:
        await load.accepted_more(12)
        for name in SERVICES:
            service = fault_stack.stack.services[name]
            code, took = await _terminate(service, grace)
            stopped = _last_stop(service)
            assert (code, stopped["clean"]) == (0, True), f"{name}: {code}, {stopped}"
            assert took <= grace, f"{name} took {took:.1f}s to exit (grace {grace}s)"
            service.start()
            await asyncio.to_thread(service.wait_ready, 90)
            await load.accepted_more(12)
            figures[name] = {
                "sigterm_to_exit_s": round(took, 2),
                "stop_sequence_s": stopped["seconds"],
            }
    fault_stack.assert_all_accepted(load)
    settle = await witness.settled()
    await witness.assert_every_accepted_signal_had_exactly_one_effect()
    # Every service was stopped gracefully and has run since, so none saw an event again:
    # what was handled before a stop was acknowledged, what was published was marked.
    duplicates = {
        name: await metric_value(
            fault_stack.url(name), "buurtsignaal_events_duplicate_ignored_total"
        )
        for name in SERVICES
    }
    record_figures(
        "graceful_shutdown",
        {
            **figures,
            "grace_s": grace,
            "duplicates_seen_after_restart": duplicates,
            "effects_settled_after_load_s": round(settle, 1),
            "load": load.summary(),
        },
    )
    assert duplicates == dict.fromkeys(SERVICES, 0.0)
    answers = {a.status for a in load.attempts}
    assert answers <= {201, None}, f"accepted, or refused while stopped: {answers}"


async def _terminate(service: ServiceProcess, grace: float) -> tuple[int, float]:
    """SIGTERM; the exit code and the seconds until the process had exited."""
    process = service.process
    assert process is not None
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(process.wait, grace + 10)
    took = time.monotonic() - started
    service.process = None
    return code, took


def _last_stop(service: ServiceProcess) -> dict:
    """The "service stopped" line the stop sequence logged last."""
    for line in reversed(service.log_path.read_text().splitlines()):
        if '"service stopped"' in line:
            return json.loads(line)
    raise AssertionError(f"{service.name} logged no 'service stopped'")
