"""The four services as separate processes, on their own vhost and the shared database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from servicekit.devstack.processes import SERVICES, Stack, free_port
from servicekit.testing.fixtures import isolated_vhost


@pytest.fixture(scope="session")
def stack(
    amqp_base_url: str, mongodb_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    with isolated_vhost(amqp_base_url) as amqp_url:
        system = Stack(
            workdir=tmp_path_factory.mktemp("stack"),
            amqp_url=amqp_url,
            mongodb_url=mongodb_url,
            ports={name: free_port() for name in SERVICES},
            extra_env={"LOG_LEVEL": "INFO"},
        )
        system.start(log=lambda _: None)
        try:
            yield system
        finally:
            system.stop()
