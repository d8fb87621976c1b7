import pytest

from cases_service.app import definition
from cases_service.settings import CasesSettings
from servicekit.testing.service import running_service


def settings_for(amqp_url: str, mongodb_url: str, database_name: str, **changes) -> CasesSettings:
    # The scheduler runs once at start-up (on an empty database); tests call the
    # deadline job themselves at the moments they choose.
    return CasesSettings(
        amqp_url=amqp_url,
        mongodb_url=mongodb_url,
        mongodb_database=database_name,
        deadline_check_interval=24 * 3600,
        **changes,
    )


@pytest.fixture
async def cases(amqp_url, mongodb_url, database_name):
    async with running_service(
        definition(settings_for(amqp_url, mongodb_url, database_name))
    ) as service:
        yield service
