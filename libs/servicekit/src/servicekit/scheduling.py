"""Jobs that run on a schedule inside a service, with time from the injected clock.

A job is an async function of the runtime and the moment it runs for. The
scheduler only decides *when*; what a job does at a given moment is testable
by calling it with any moment (a FixedClock in tests):

    async def expire_signals(runtime: ServiceRuntime, now: datetime) -> int: ...

    ServiceDefinition(..., background_tasks=[every(timedelta(minutes=5), expire_signals)])

Every job must be idempotent: with more than one replica it may run in several
at once, and after a crash it runs again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from servicekit.app import ServiceRuntime

log = logging.getLogger(__name__)

Job = Callable[["ServiceRuntime", datetime], Awaitable[Any]]


def every(interval: timedelta, job: Job) -> Callable[[ServiceRuntime], Awaitable[None]]:
    """A background task that runs ``job`` now and then every ``interval``."""

    async def run_periodically(runtime: ServiceRuntime) -> None:
        while True:
            await run_once(runtime, job)
            await asyncio.sleep(interval.total_seconds())

    run_periodically.__name__ = f"every-{job.__name__}"
    return run_periodically


async def run_once(runtime: ServiceRuntime, job: Job) -> Any:
    """Run ``job`` for the runtime clock's now; a failure is logged, never fatal."""
    try:
        return await job(runtime, runtime.clock.now())
    except asyncio.CancelledError:
        raise
    except Exception as error:
        log.error(
            "scheduled job failed; it runs again at the next interval",
            extra={"job": job.__name__, "error": type(error).__name__},
            exc_info=error,
        )
        return None
