"""The four services as processes (the dev launcher's Stack), seen as a benchmark target."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from bench.load import Target
from servicekit.devstack.processes import SERVICES, Stack, free_port
from servicekit.testing import token_for

REPORTER = token_for("bench-reporter", "reporter", org="bench-school")
COUNTED = "faststream_received_processed_messages_total{"
CASE_OPENED_TYPE = 'event_type="nl.buurtsignaal.cases.case-opened.v1"'


def cases_counted(metrics: str) -> int:
    """`case-opened` events reporting has handled and acknowledged (FastStream's counter)."""
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith(COUNTED)
            and 'app_name="reporting"' in line
            and CASE_OPENED_TYPE in line
            and 'status="acked"' in line
        )
    )


@contextlib.contextmanager
def running_services(workdir: Path, amqp_url: str, mongodb_url: str) -> Iterator[Target]:
    """The four services, ready; stopped on leaving."""
    stack = Stack(
        workdir,
        amqp_url,
        mongodb_url,
        ports={name: free_port() for name in SERVICES},
        extra_env={"LOG_LEVEL": "WARNING"},
    )
    try:
        stack.start(log=lambda _: None)
        yield Target(
            name="services",
            signals_url=f"{stack.url('signals')}/api/v1/signals",
            headers=REPORTER,
            amqp_url=amqp_url,
            metrics_url=f"{stack.url('reporting')}/metrics",
            counted=cases_counted,
            processes={name: s.process.pid for name, s in stack.services.items() if s.process},
            retry_metrics_urls=[f"{stack.url(name)}/metrics" for name in SERVICES],
        )
    finally:
        stack.stop()
