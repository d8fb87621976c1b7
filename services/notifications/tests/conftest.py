import pytest

from notifications_service.app import definition
from notifications_service.settings import NotificationsSettings
from servicekit.testing.service import running_service


@pytest.fixture
async def notifications(amqp_url, mongodb_url, database_name):
    settings = NotificationsSettings(
        amqp_url=amqp_url, mongodb_url=mongodb_url, mongodb_database=database_name
    )
    async with running_service(definition(settings)) as service:
        yield service
