"""Waiting on conditions (never sleeping and hoping) and minting test tokens."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
from aio_pika.abc import AbstractRobustConnection
from prometheus_client.parser import text_string_to_metric_families

from servicekit import topology
from servicekit.auth import mint_token
from servicekit.settings import DEVELOPMENT_JWT_SECRET

T = TypeVar("T")

ISSUER = "urn:buurtsignaal:dev-issuer"
AUDIENCE = "buurtsignaal"

# What every production configuration must give (settings.py): the issuer's keys,
# explicit connections, TLS to both. Synthetic values for settings tests.
PRODUCTION_CONNECTIONS = {
    "environment": "production",
    "auth_jwks_url": "https://idp.example/realms/staff/certs",
    "amqp_url": "amqps://svc-user:not-a-real-password@rabbitmq.example:5671/",
    "mongodb_url": "mongodb://svc-user:not-a-real-password@mongo.example/?tls=true",
}


async def eventually(
    probe: Callable[[], Awaitable[T]],
    until: Callable[[T], bool] = bool,
    *,
    timeout: float = 20.0,
    interval: float = 0.05,
    what: str = "the condition",
) -> T:
    """Call ``probe`` until ``until(result)`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if until(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout}s; last value: {result!r}")
        await asyncio.sleep(interval)


def token_for(
    sub: str,
    *roles: str,
    teams: list[str] | None = None,
    org: str | None = None,
    secret: str = DEVELOPMENT_JWT_SECRET,
    ttl_seconds: int = 3600,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
) -> dict[str, str]:
    """An Authorization header for a development token."""
    token = mint_token(
        secret=secret,
        sub=sub,
        roles=list(roles),
        teams=teams,
        org=org,
        issuer=issuer,
        audience=audience,
        ttl_seconds=ttl_seconds,
    )
    return {"Authorization": f"Bearer {token}"}


async def queue_depth(connection: AbstractRobustConnection, name: str) -> int:
    """Ready messages in a queue, on a short-lived channel of the test's connection."""
    async with connection.channel() as channel:
        return await topology.queue_depth(channel, name)


async def metric_value(base_url: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples (with these labels) on a service's /metrics; 0 if absent."""
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"{base_url}/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )
