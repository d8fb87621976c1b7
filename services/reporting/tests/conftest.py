import sys
from pathlib import Path

import pytest

from reporting_service.app import definition
from reporting_service.settings import ReportingSettings
from servicekit.testing.service import running_service

# helpers beside the tests (the attacker, the synthetic year) import by name
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
async def reporting(amqp_url, mongodb_url, database_name):
    settings = ReportingSettings(
        amqp_url=amqp_url, mongodb_url=mongodb_url, mongodb_database=database_name
    )
    async with running_service(definition(settings)) as service:
        yield service
