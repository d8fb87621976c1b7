import pytest

from cases_service.app import definition
from cases_service.settings import CasesSettings
from servicekit.testing.service import running_service


@pytest.fixture
async def cases(amqp_url, mongodb_url, database_name):
    settings = CasesSettings(
        amqp_url=amqp_url, mongodb_url=mongodb_url, mongodb_database=database_name
    )
    async with running_service(definition(settings)) as service:
        yield service
