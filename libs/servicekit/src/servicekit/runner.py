"""Run a service with uvicorn: ``python -m <service>_service``.

Uvicorn turns SIGTERM and SIGINT into a graceful shutdown: it stops taking
requests, lets running ones finish, then runs the lifespan's stop sequence
(consumers finish in-flight messages, the outbox publishes what is committed).
All of it within ``GRACEFUL_TIMEOUT`` counted from the signal. The process then
exits 0, or 1 when in-flight work was cut off (it is redelivered and absorbed by
the inbox after the next start, but an orchestrator should hear about it).
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from types import FrameType

import uvicorn
from pydantic import ValidationError

from servicekit.app import ServiceDefinition, ServiceRuntime, create_app
from servicekit.logs import configure_logging

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
STARTUP_FAILURE = 3


class _Server(uvicorn.Server):
    """Uvicorn's server that tells the runtime when the stop was asked for."""

    def __init__(self, config: uvicorn.Config, runtime: ServiceRuntime) -> None:
        super().__init__(config)
        self._runtime = runtime

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._runtime.stop_requested_at is None:
            self._runtime.stop_requested_at = time.monotonic()
        super().handle_exit(sig, frame)


def exit_code(runtime: ServiceRuntime) -> int:
    """0 after a clean stop (or none begun), 1 when the stop ran out of time."""
    return 1 if runtime.stopped_cleanly is False else 0


def serve(definition_factory: Callable[[], ServiceDefinition]) -> None:
    try:
        definition = definition_factory()
    except ValidationError as error:
        # A missing or refused setting: say which, without a traceback, and stop.
        print(f"refusing to start: {settings_problems(error)}", file=sys.stderr)
        raise SystemExit(2) from None
    settings = definition.settings
    configure_logging(definition.name, settings.log_level)
    app = create_app(definition)
    runtime: ServiceRuntime = app.state.runtime
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,  # requests are logged by route template, without query strings
        timeout_graceful_shutdown=int(settings.graceful_timeout),
        lifespan="on",
    )

    # Uvicorn raises a caught signal again after its graceful shutdown, so that the
    # process ends "as the signal would" (killed by SIGTERM). An asked-for stop that
    # finished its work is a normal end: these handlers turn it into the exit code.
    def stop_with_exit_code(sig: int, frame: FrameType | None) -> None:
        raise SystemExit(exit_code(runtime))

    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, stop_with_exit_code)
    server = _Server(config, runtime)
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)  # as uvicorn.run does
    sys.exit(exit_code(runtime))

def settings_problems(error: ValidationError) -> str:
    """The settings errors by environment variable name, never their values."""
    problems = []
    for e in error.errors(include_input=False, include_url=False):
        message = e["msg"].removeprefix("Value error, ")
        names = ".".join(str(part) for part in e["loc"]).upper()
        problems.append(f"{names}: {message}" if names else message)
    return "; ".join(problems)
