import sys
from pathlib import Path

import pytest

from reporting_service.app import definition
from reporting_service.settings import ReportingSettings
from servicekit.testing.service import running_service

# helpers beside the tests (the attacker, the synthetic events) import by name
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def reporting_settings(amqp_url, mongodb_url, database_name) -> ReportingSettings:
    return ReportingSettings(
        amqp_url=amqp_url,
        mongodb_url=mongodb_url,
        mongodb_database=database_name,
        retry_backoff_initial=0.05,
        retry_backoff_max=0.2,
        metrics_refresh_interval=0.2,
    )


@pytest.fixture
async def reporting(reporting_settings):
    async with running_service(definition(reporting_settings)) as service:
        yield service
