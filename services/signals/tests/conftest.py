import pytest

from servicekit.testing.service import running_service
from signals_service.app import definition
from signals_service.settings import SignalsSettings


@pytest.fixture
async def signals(amqp_url, mongodb_url, database_name):
    settings = SignalsSettings(
        amqp_url=amqp_url, mongodb_url=mongodb_url, mongodb_database=database_name
    )
    async with running_service(definition(settings)) as service:
        yield service
