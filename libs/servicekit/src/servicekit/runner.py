"""Run a service with uvicorn: ``python -m <service>_service``.

Uvicorn turns SIGTERM and SIGINT into a graceful shutdown: it stops taking
requests, lets running ones finish, then runs the lifespan's stop sequence
(consumers finish in-flight messages, the outbox publishes what is committed).
"""

from __future__ import annotations

from collections.abc import Callable

import uvicorn

from servicekit.app import ServiceDefinition, create_app
from servicekit.logs import configure_logging


def serve(definition_factory: Callable[[], ServiceDefinition]) -> None:
    definition = definition_factory()
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
