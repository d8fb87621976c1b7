"""Run a service with uvicorn: ``python -m <service>_service``.

Uvicorn turns SIGTERM and SIGINT into a graceful shutdown: it stops taking
requests, lets running ones finish, then runs the lifespan's stop sequence
(consumers finish in-flight messages, the outbox publishes what is committed).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import uvicorn
from pydantic import ValidationError

from servicekit.app import ServiceDefinition, create_app
from servicekit.logs import configure_logging


def serve(definition_factory: Callable[[], ServiceDefinition]) -> None:
    try:
        definition = definition_factory()
    except ValidationError as error:
        # A missing or refused setting: say which, without a traceback, and stop.
        print(f"refusing to start: {settings_problems(error)}", file=sys.stderr)
        raise SystemExit(2) from None
    settings = definition.settings
    configure_logging(definition.name, settings.log_level)
    uvicorn.run(
        create_app(definition),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,  # requests are logged by route template, without query strings
        timeout_graceful_shutdown=int(settings.graceful_timeout),
        lifespan="on",
    )


def settings_problems(error: ValidationError) -> str:
    """The settings errors by environment variable name, never their values."""
    problems = []
    for e in error.errors(include_input=False, include_url=False):
        message = e["msg"].removeprefix("Value error, ")
        names = ".".join(str(part) for part in e["loc"]).upper()
        problems.append(f"{names}: {message}" if names else message)
    return "; ".join(problems)
