"""A signal flows through all four services, on real RabbitMQ and the database stand-in."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import aio_pika
import httpx
import pytest

from servicekit.devstack.demo import play
from servicekit.testing import eventually, token_for
from servicekit.testing.tap import EventTap
from servicekit.topology import declare_shared

pytestmark = pytest.mark.e2e

REPORTER = token_for("r-e2e-school", "reporter", org="obs-e2e")
WORKER = token_for("w-e2e", "worker", teams=["wot-noord"])
ADMIN = token_for("admin-e2e", "admin")
ANALYST = token_for("an-e2e", "analyst")
RECEIVED = "nl.buurtsignaal.signals.signal-received.v1"


def a_youth_in_noord() -> dict:
    """A fresh synthetic youth (test-range BSN, unique per call) living in Noord."""
    number = f"9999{uuid.uuid4().int % 10**4:04d}"
    weights = (9, 8, 7, 6, 5, 4, 3, 2)
    check = sum(int(d) * w for d, w in zip(number, weights, strict=True)) % 11
    if check == 10:
        return a_youth_in_noord()
    return {
        "bsn": number + str(check),
        "date_of_birth": (date.today() - timedelta(days=9 * 365)).isoformat(),
        "postcode": "3124 XY",
        "house_number": str(uuid.uuid4().int % 500 + 1),
    }


def signal_body(person: dict, **changes) -> dict:
    body = {
        "source_type": "school",
        "category": "behaviour-disobedience",
        "person": person,
        "occurred_on": date.today().isoformat(),
        "description": "Synthetisch e2e-signaal.",
    }
    body.update(changes)
    return body


async def get_json(url: str, headers: dict, **params) -> dict:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(url, headers=headers, params=params)
        response.raise_for_status()
        return response.json()


async def cases_of(stack, pseudonym: str) -> list[dict]:
    return (await get_json(f"{stack.url('cases')}/api/v1/cases", WORKER, person=pseudonym))["items"]


async def inbox_for_case(stack, case_id: str) -> list[dict]:
    items = (await get_json(f"{stack.url('notifications')}/api/v1/inbox", WORKER, limit=100))[
        "items"
    ]
    return [i for i in items if i["case_id"] == case_id]


async def noord_totals(stack) -> dict:
    today = date.today()
    report = await get_json(
        f"{stack.url('reporting')}/api/v1/reports/totals",
        ANALYST,
        first_day=(today - timedelta(days=1)).isoformat(),
        last_day=(today + timedelta(days=1)).isoformat(),
    )
    return next(
        (r for r in report["rows"] if r["group"] == "noord"), {"signals": 0, "cases_opened": 0}
    )


async def submit(stack, body: dict) -> dict:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{stack.url('signals')}/api/v1/signals", json=body, headers=REPORTER
        )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_signal_opens_a_case_notifies_the_team_and_is_counted(stack):
    before = await noord_totals(stack)
    signal = await submit(stack, signal_body(a_youth_in_noord()))

    (case,) = await eventually(lambda: cases_of(stack, signal["person"]), what="the case")
    assert case["team"] == "wot-noord" and case["programme"] == "early-signalling"
    assert [s["signal_id"] for s in case["signals"]] == [signal["id"]]

    (item,) = await eventually(
        lambda: inbox_for_case(stack, case["id"]), what="the team notification"
    )
    assert item["topic"] == "case-opened"

    after = await eventually(
        lambda: noord_totals(stack),
        lambda t: (
            t["signals"] == before["signals"] + 1
            and t["cases_opened"] == before["cases_opened"] + 1
        ),
        what="the report counts",
    )
    assert after["signals"] - before["signals"] == 1

    own = await get_json(f"{stack.url('signals')}/api/v1/signals/{signal['id']}", REPORTER)
    assert own["description"] == "Synthetisch e2e-signaal."


async def test_a_second_signal_about_the_same_youth_joins_the_open_case(stack):
    youth = a_youth_in_noord()
    first = await submit(stack, signal_body(youth))
    (case,) = await eventually(lambda: cases_of(stack, first["person"]), what="the case")
    second = await submit(
        stack,
        signal_body(
            {"bsn": youth["bsn"], "date_of_birth": youth["date_of_birth"]},
            source_type="police",
            category="behaviour-vandalism",
        ),
    )
    assert second["person"] == first["person"]
    cases = await eventually(
        lambda: cases_of(stack, first["person"]),
        lambda cs: len(cs) == 1 and len(cs[0]["signals"]) == 2,
        what="the joined signal",
    )
    assert cases[0]["id"] == case["id"]


async def test_the_same_signal_received_event_published_twice_opens_one_case(stack):
    async with await aio_pika.connect_robust(stack.amqp_url) as connection:
        async with EventTap(connection) as tap:
            signal = await submit(stack, signal_body(a_youth_in_noord()))
            (original,) = await tap.wait_for(RECEIVED, where=lambda e: e["subject"] == signal["id"])
        (case,) = await eventually(lambda: cases_of(stack, signal["person"]), what="the case")
        await eventually(lambda: inbox_for_case(stack, case["id"]), what="the notification")
        counted = await noord_totals(stack)

        message = next(m for m in tap.messages if m.message_id == original["id"])
        channel = await connection.channel(publisher_confirms=True)
        exchange = await declare_shared(channel)
        for _ in range(2):  # the broker delivers the very same event again, twice
            await exchange.publish(
                aio_pika.Message(
                    message.body,
                    message_id=message.message_id,
                    type=message.type,
                    content_type=message.content_type,
                    delivery_mode=2,
                ),
                routing_key=message.routing_key,
            )
        # Wait until each consumer has seen and ignored both copies.
        for service in ("cases", "reporting"):
            await eventually(
                lambda s=service: duplicates_ignored(stack, s, RECEIVED),
                lambda n: n >= 2,
                what=f"{service} ignoring the copies",
            )

    cases = await cases_of(stack, signal["person"])
    assert len(cases) == 1 and len(cases[0]["signals"]) == 1
    assert len(await inbox_for_case(stack, case["id"])) == 1
    assert await noord_totals(stack) == counted


async def duplicates_ignored(stack, service: str, event_type: str) -> float:
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"{stack.url(service)}/metrics")).text
    prefix = f'buurtsignaal_events_duplicate_ignored_total{{event_type="{event_type}"}} '
    return sum(
        float(line.removeprefix(prefix)) for line in text.splitlines() if line.startswith(prefix)
    )


def test_the_demo_scenario_flows_through_and_adds_up(stack):
    outcome = play(stack, signal_count=15, say=lambda _: None)
    assert outcome.submitted == 15 and outcome.rejected == 0
    assert sum(outcome.cases_by_team.values()) >= 6, "several youths, some reported twice"
    report_signals = sum(r["signals"] for r in outcome.report_rows)
    assert report_signals >= 15
