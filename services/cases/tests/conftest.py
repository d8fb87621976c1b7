"""Fixtures: the cases service in-process on the real broker and the database stand-in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cases_service.app import definition
from cases_service.settings import CasesSettings
from cases_service.testing import CasesApi
from servicekit.clock import FixedClock
from servicekit.testing.service import running_service


def settings_for(amqp_url: str, mongodb_url: str, database_name: str, **changes) -> CasesSettings:
    # The scheduler runs once at start-up (on an empty database); tests call the
    # deadline job themselves at the moments they choose.
    defaults: dict[str, Any] = {
        "deadline_check_interval": 24 * 3600,
        "delivery_limit": 2,
        "retry_backoff_initial": 0.01,
        "retry_backoff_max": 0.05,
        "outbox_poll_interval": 0.2,
    }
    return CasesSettings(
        amqp_url=amqp_url,
        mongodb_url=mongodb_url,
        mongodb_database=database_name,
        **{**defaults, **changes},
    )


@pytest.fixture
async def cases(amqp_url, mongodb_url, database_name):
    settings = settings_for(amqp_url, mongodb_url, database_name)
    async with running_service(definition(settings)) as service:
        yield service


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2027, 3, 25, 9, 0, tzinfo=UTC))


@pytest.fixture
async def clocked_cases(amqp_url, mongodb_url, database_name, clock):
    """The service on a clock the test moves."""
    settings = settings_for(amqp_url, mongodb_url, database_name)
    async with running_service(definition(settings), clock) as service:
        yield service


@pytest.fixture
def api(cases) -> CasesApi:
    return CasesApi(cases)


@pytest.fixture
def clocked_api(clocked_cases) -> CasesApi:
    return CasesApi(clocked_cases)


@pytest.fixture
def cases_settings(amqp_url, mongodb_url, database_name):
    """Settings for a service a test starts itself, with its own changes."""

    def make(**changes: Any) -> CasesSettings:
        return settings_for(amqp_url, mongodb_url, database_name, **changes)

    return make
