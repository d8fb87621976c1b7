"""No generated request makes a service answer 5xx: every operation of each service's
OpenAPI, valid and invalid requests (schemathesis' positive and negative modes), with a
token that reaches deep into each route (every role, every team; path ids of things that
exist) and without a token."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import aio_pika
import pytest
import requests

from buurtsignaal_contracts import new_event
from cases_service.app import definition as cases_definition
from cases_service.settings import CasesSettings
from notifications_service.app import definition as notifications_definition
from notifications_service.settings import NotificationsSettings
from reporting_service.app import definition as reporting_definition
from reporting_service.settings import ReportingSettings
from servicekit.devstack.processes import wait_until
from servicekit.testing.event_factories import mayor_letter_requested
from servicekit.testing.events import case_opened, publish, signal_received
from signals_service.app import definition as signals_definition
from signals_service.settings import SignalsSettings

from .conftest import EXAMPLES, Fuzzer, bearer

pytestmark = [pytest.mark.fuzz, pytest.mark.integration]

QUIET = {"outbox_poll_interval": 0.5, "dead_letter_probe_interval": 5}

SERVICES: dict[str, Callable[..., Any]] = {
    "signals": lambda **s: signals_definition(SignalsSettings(**s, **QUIET)),
    "cases": lambda **s: cases_definition(
        CasesSettings(**s, **QUIET, deadline_check_interval=3600)
    ),
    "notifications": lambda **s: notifications_definition(NotificationsSettings(**s, **QUIET)),
    "reporting": lambda **s: reporting_definition(ReportingSettings(**s, **QUIET)),
}

# An endless Server-Sent Events stream: it answers 200 and never ends (its own tests cover it).
SKIP = frozenset({"GET /api/v1/inbox/stream"})


def emit(amqp_url: str, *events: Any) -> None:
    async def send() -> None:
        connection = await aio_pika.connect_robust(amqp_url)
        try:
            await publish(connection, *map(new_event, events))
        finally:
            await connection.close()

    asyncio.run(send())


def items(base_url: str, path: str, headers: dict[str, str], key: str) -> list[str]:
    response = requests.get(f"{base_url}{path}", headers=headers, timeout=10)
    response.raise_for_status()
    return [str(item[key]) for item in response.json()["items"]]


def eventually_items(base_url: str, path: str, headers: dict[str, str], key: str) -> list[str]:
    found: list[str] = []

    def some() -> bool:
        found[:] = items(base_url, path, headers, key)
        return bool(found)

    wait_until(some, 30, f"something at {path}")
    return found


def seed_signals(base_url: str, amqp_url: str, headers: dict[str, str]) -> dict[str, list[str]]:
    person = {
        "bsn": "999990019",
        "date_of_birth": (date.today() - timedelta(days=9 * 365)).isoformat(),
        "postcode": "3117 AB",
        "house_number": "12",
    }
    body = {
        "source_type": "school",
        "category": "behaviour-disobedience",
        "person": person,
        "occurred_on": date.today().isoformat(),
        "description": "Synthetisch fuzz-signaal.",
    }
    response = requests.post(f"{base_url}/api/v1/signals", json=body, headers=headers, timeout=10)
    response.raise_for_status()
    signal = response.json()
    return {"signal_id": [str(signal["id"])], "pseudonym": [signal["person"]]}


def seed_cases(base_url: str, amqp_url: str, headers: dict[str, str]) -> dict[str, list[str]]:
    emit(amqp_url, signal_received(district="west"))
    case_ids = eventually_items(base_url, "/api/v1/cases", headers, "id")
    return {"case_id": case_ids}


def seed_notifications(
    base_url: str, amqp_url: str, headers: dict[str, str]
) -> dict[str, list[str]]:
    subscription = requests.post(
        f"{base_url}/api/v1/webhook-subscriptions",
        json={
            "partner": "obs-fuzz",
            "callback_url": "http://127.0.0.1:9/hook",  # refused: deliveries stay to retry
            "channels": [{"name": "cases"}],
        },
        headers=headers,
        timeout=10,
    )
    subscription.raise_for_status()
    letter = mayor_letter_requested()
    emit(amqp_url, case_opened(), letter)
    letters = f"/api/v1/letters?case_id={letter.case_id}"
    return {
        "subscription_id": [str(subscription.json()["id"])],
        "notification_id": eventually_items(base_url, "/api/v1/inbox", headers, "id"),
        "letter_id": eventually_items(base_url, letters, headers, "id"),
        "delivery_id": eventually_items(base_url, "/api/v1/deliveries", headers, "id"),
    }


SEEDS: dict[str, Callable[[str, str, dict[str, str]], dict[str, list[str]]]] = {
    "signals": seed_signals,
    "cases": seed_cases,
    "notifications": seed_notifications,
    "reporting": lambda *_: {},
}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_no_generated_request_gets_a_server_error(
    service, serve, amqp_url, mongodb_url, database_name
):
    definition = SERVICES[service](
        amqp_url=amqp_url, mongodb_url=mongodb_url, mongodb_database=database_name
    )
    deep = bearer()
    fuzzer = Fuzzer(serve(definition), skip=SKIP)
    fuzzer.known = SEEDS[service](fuzzer.service.base_url, amqp_url, deep)
    failures = fuzzer.run(deep)
    stopped_at_the_door = [op for op, seen in fuzzer.statuses.items() if set(seen) <= {401, 403}]
    assert not stopped_at_the_door, "the token should reach into every route"
    failures += fuzzer.run({}, examples=max(5, EXAMPLES // 5))
    assert not failures, "\n".join(failures)
    boundaries = fuzzer.coverage(deep)
    assert boundaries.returncode == 0, boundaries.stdout[-5000:] + boundaries.stderr[-2000:]
    generated = re.search(r"(\d+) generated", boundaries.stdout)
    assert generated and int(generated.group(1)) > 100, boundaries.stdout[-2000:]


