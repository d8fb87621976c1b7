"""pytest fixtures: a real RabbitMQ and a real MongoDB-protocol database.

Where they come from, in order:
- environment URLs (AMQP_URL, MONGODB_URL) when given;
- a local RabbitMQ (started if it is down) with a fresh vhost per test run,
  and the SecantusDB stand-in as a separate process;
- testcontainers, when a Docker engine is available and nothing local is.
Loaded by the repository's root conftest.py.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from pymongo import AsyncMongoClient

from servicekit.devstack.processes import (
    DatabaseProcess,
    broker_reachable,
    create_vhost,
    delete_vhost,
    ensure_rabbitmq,
    find_secantusd,
    rabbitmqctl_available,
    with_vhost,
)

LOCAL_AMQP = "amqp://guest:guest@127.0.0.1:5672/"


def docker_available() -> bool:
    try:
        import docker

        docker.from_env().ping()
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def amqp_base_url() -> Iterator[str]:
    base = os.environ.get("AMQP_URL")
    if base is None and not broker_reachable(LOCAL_AMQP) and docker_available():
        yield from _rabbitmq_container()
        return
    base = base or LOCAL_AMQP
    ensure_rabbitmq(base)
    yield base


@contextlib.contextmanager
def isolated_vhost(base_url: str) -> Iterator[str]:
    """A vhost of its own, so a test never sees another run's queues (when we may make one)."""
    if not rabbitmqctl_available():
        yield base_url
        return
    vhost = f"buurtsignaal-test-{uuid.uuid4().hex[:8]}"
    create_vhost(vhost)
    try:
        yield with_vhost(base_url, vhost)
    finally:
        delete_vhost(vhost)


@pytest.fixture(scope="session")
def amqp_url(amqp_base_url: str) -> Iterator[str]:
    """The broker for in-process tests (the end-to-end stack gets another vhost)."""
    with isolated_vhost(amqp_base_url) as url:
        yield url


def _rabbitmq_container() -> Iterator[str]:
    from testcontainers.rabbitmq import RabbitMqContainer

    with RabbitMqContainer("rabbitmq:4.1.4-management") as container:
        params = container.get_connection_params()
        yield f"amqp://guest:guest@{params.host}:{params.port}/"


@pytest.fixture(scope="session")
def mongodb_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if url := os.environ.get("MONGODB_URL"):
        yield url
        return
    try:
        find_secantusd()
    except RuntimeError:
        if docker_available():
            yield from _mongo_container()
            return
        raise
    workdir = tmp_path_factory.mktemp("secantusdb")
    database = DatabaseProcess(workdir / "data", workdir / "secantusdb.log")
    database.start()
    try:
        yield database.url
    finally:
        database.stop()


def _mongo_container() -> Iterator[str]:
    from testcontainers.mongodb import MongoDbContainer

    container = MongoDbContainer("mongo:8.0.12").with_command("--replSet rs0 --bind_ip_all")
    with container:
        container.exec(["mongosh", "--quiet", "--eval", "rs.initiate()"])
        host = container.get_container_host_ip()
        port = container.get_exposed_port(27017)
        yield f"mongodb://{host}:{port}/?directConnection=true"


@pytest.fixture
def database_name() -> str:
    """A database of its own for each test."""
    return f"test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def mongo_client(mongodb_url: str) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongodb_url, tz_aware=True, uuidRepresentation="standard"
    )
    yield client
    await client.close()


@pytest.fixture
async def amqp_connection(amqp_url: str) -> AsyncIterator[aio_pika.abc.AbstractRobustConnection]:
    connection = await aio_pika.connect_robust(amqp_url)
    yield connection
    with contextlib.suppress(Exception):
        await connection.close()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[5]
