import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from servicekit.clock import Clock, FixedClock
from servicekit.testing.service import ServiceUnderTest, running_service
from signals_service.app import definition
from signals_service.settings import SignalsSettings

# A fixed "now" for the tests that move time: registration day of the signals.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
async def signals(amqp_url, mongodb_url, database_name):
    settings = SignalsSettings(
        amqp_url=amqp_url, mongodb_url=mongodb_url, mongodb_database=database_name
    )
    async with running_service(definition(settings)) as service:
        yield service


@pytest.fixture
def start_signals(
    amqp_url, mongodb_url, database_name
) -> Callable[..., contextlib.AbstractAsyncContextManager[ServiceUnderTest]]:
    """Start the service with a clock of the test's choosing and extra settings."""

    @contextlib.asynccontextmanager
    async def start(clock: Clock | None = None, **settings: Any) -> AsyncIterator[ServiceUnderTest]:
        config = SignalsSettings(
            amqp_url=amqp_url,
            mongodb_url=mongodb_url,
            mongodb_database=database_name,
            **settings,
        )
        async with running_service(definition(config), clock=clock) as service:
            yield service

    return start


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)
