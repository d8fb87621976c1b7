"""Poison messages, end to end: the services as separate processes on the real broker and
the database stand-in, the operator command run as the operator runs it.

A signal about a youth in a district that the cases service's configuration lacks (the
municipality added Woudhoek; the signals service has it, cases not yet) is retried with
backoff, lands in ``cases.dlq`` after the delivery limit, shows in the metrics; once the
configuration has the district and cases is restarted, ``buurtsignaal dlq replay`` opens
the case, exactly once. A message that cannot be parsed goes to the dead-letter queue at
once.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import aio_pika
import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from servicekit.deadletters import DeadLetter, list_dead_letters
from servicekit.devstack.processes import Stack
from servicekit.messaging import retry_delay
from servicekit.testing import eventually, token_for
from servicekit.topology import EVENTS_EXCHANGE

from .conftest import BACKOFF_INITIAL, BACKOFF_MAX, DELIVERY_LIMIT, MISSING_DISTRICT, write_areas

pytestmark = pytest.mark.e2e

RECEIVED = "nl.buurtsignaal.signals.signal-received.v1"
REPORTER = token_for("r-dlq-school", "reporter", org="obs-dlq")
GROENOORD_WORKER = token_for("w-dlq", "worker", teams=["wot-groenoord"])
ANALYST = token_for("an-dlq", "analyst")
BUURTSIGNAAL = str(Path(sys.executable).with_name("buurtsignaal"))
RULES = Path(__file__).resolve().parents[2] / "deploy/prometheus/rules/buurtsignaal.yml"
ALERT_DESCRIPTION = (
    "Why and after how many deliveries: buurtsignaal dlq list --service cases; once the cause "
    "is fixed: buurtsignaal dlq replay --service cases --all (or --id)."
)


def a_youth_at(postcode: str) -> dict:
    """A fresh synthetic youth with a test-range BSN that passes the 11-test."""
    while True:
        number = f"9999{uuid.uuid4().int % 10**4:04d}"
        check = sum(int(d) * w for d, w in zip(number, range(9, 1, -1), strict=True)) % 11
        if check < 10:
            break
    return {
        "bsn": number + str(check),
        "date_of_birth": (date.today() - timedelta(days=14 * 365)).isoformat(),
        "postcode": postcode,
        "house_number": str(uuid.uuid4().int % 500 + 1),
    }


async def submit_signal(stack: Stack, person: dict, correlation_id: str) -> dict:
    body = {
        "source_type": "police",
        "category": "youth-nuisance",
        "person": person,
        "occurred_on": date.today().isoformat(),
        "description": "Synthetisch signaal voor de dead-letter-test.",
    }
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{stack.url('signals')}/api/v1/signals",
            json=body,
            headers={**REPORTER, "X-Correlation-ID": correlation_id},
        )
    assert response.status_code == 201, response.text
    return response.json()


async def get_json(url: str, headers: dict, **params: str) -> dict:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(url, headers=headers, params=params)
    response.raise_for_status()
    return response.json()


async def cases_of(stack: Stack, pseudonym: str) -> list[dict]:
    url = f"{stack.url('cases')}/api/v1/cases"
    return (await get_json(url, GROENOORD_WORKER, person=pseudonym))["items"]


async def cases_opened_in(stack: Stack, district: str) -> int:
    today = date.today()
    report = await get_json(
        f"{stack.url('reporting')}/api/v1/reports/totals",
        ANALYST,
        first_day=(today - timedelta(days=1)).isoformat(),
        last_day=(today + timedelta(days=1)).isoformat(),
    )
    return next((r["cases_opened"] for r in report["rows"] if r["group"] == district), 0)


async def told_of(stack: Stack, case_id: str) -> list[dict]:
    url = f"{stack.url('notifications')}/api/v1/inbox"
    items = (await get_json(url, GROENOORD_WORKER, limit="100"))["items"]
    return [item for item in items if item["case_id"] == case_id]


async def scrape(stack: Stack, service: str) -> list[Sample]:
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"{stack.url(service)}/metrics")).text
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


async def metric(stack: Stack, service: str, name: str, **labels: str) -> float:
    return sum(
        sample.value
        for sample in await scrape(stack, service)
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def the_dead_letter_alert_fires_on(samples: list[Sample], workdir: Path) -> None:
    """promtool evaluates the real alert rules on the dead-letter series the service exports,
    as Prometheus would scrape it for a few minutes."""
    (gauge,) = [s for s in samples if s.name == "buurtsignaal_dead_letter_messages"]
    labels = ", ".join(f'{k}="{v}"' for k, v in {**gauge.labels, "instance": "cases"}.items())
    depth = int(gauge.value)
    test = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": f"{gauge.name}{{{labels}}}", "values": f"{depth}x5"}
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "3m",
                        "alertname": "DeadLettersPresent",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "warning", "queue": "cases.dlq"},
                                "exp_annotations": {
                                    "summary": f"{depth} dead letter(s) in cases.dlq",
                                    "description": ALERT_DESCRIPTION,
                                },
                            }
                        ],
                    }
                ],
            }
        ],
    }
    path = workdir / "dead-letters.test.yml"
    path.write_text(yaml.safe_dump(test))
    result = subprocess.run(
        [promtool(), "test", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def promtool() -> str:
    """As tests/test_monitoring.py: missing promtool fails, unless skipped on request."""
    found = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if found:
        return found
    hint = "promtool is missing: apt-get install -y prometheus (Debian), or set PROMTOOL"
    if os.environ.get("BUURTSIGNAAL_SKIP_PROMTOOL") == "1" and os.environ.get("CI") != "true":
        pytest.skip(f"{hint} (skipped on request)")
    pytest.fail(hint)


async def dead_letters(stack: Stack, **match: str) -> list[DeadLetter]:
    letters = await list_dead_letters(stack.amqp_url, "cases")
    return [x for x in letters if all(getattr(x, k) == v for k, v in match.items())]


def log_of(stack: Stack, service: str, event_id: str) -> list[dict]:
    lines = (stack.workdir / f"{service}.log").read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    return [e for e in entries if e.get("event_id") == event_id]


def operator(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """`buurtsignaal dlq ...` as an operator runs it: a process of its own."""
    return subprocess.run(
        [BUURTSIGNAAL, "dlq", *args, "--service", "cases", "--amqp-url", stack.amqp_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def restart(stack: Stack, service: str) -> None:
    stack.services[service].stop()
    stack.services[service].start()
    stack.services[service].wait_ready()


async def test_a_district_missing_from_the_configuration_is_retried_dead_lettered_and_replayed(
    stack: Stack, cases_areas: Path, tmp_path: Path
):
    correlation_id = f"dlq-e2e-{uuid.uuid4().hex[:12]}"
    signal = await submit_signal(stack, a_youth_at("3122 AB"), correlation_id)

    (letter,) = await eventually(
        lambda: dead_letters(stack, correlation_id=correlation_id),
        timeout=60,
        what="the signal-received event in cases.dlq",
    )
    assert letter.event_type == RECEIVED
    assert (letter.reason, letter.deliveries) == ("delivery-limit", DELIVERY_LIMIT + 1)
    assert letter.error == (
        f"NotHandledYet: district {MISSING_DISTRICT} is not in the area configuration"
    )
    assert await cases_of(stack, signal["person"]) == [], "no case while it fails"

    # Retried with backoff: each delivery came after the delay the one before it set.
    attempts = [e for e in log_of(stack, "cases", letter.message_id) if "deliveries" in e]
    assert [e["deliveries"] for e in attempts] == list(range(1, DELIVERY_LIMIT + 2))
    assert [e["message"] for e in attempts] == ["handler failed; will be retried"] * (
        DELIVERY_LIMIT
    ) + ["handler failed; dead-lettered"]
    times = [datetime.fromisoformat(e["time"]) for e in attempts]
    for earlier, (before, after) in enumerate(itertools.pairwise(times)):
        waited = (after - before).total_seconds()
        assert waited >= retry_delay(earlier, BACKOFF_INITIAL, BACKOFF_MAX) - 0.01, attempts

    # The metrics show it: the dead-letter gauge (what DeadLettersPresent alerts on).
    await eventually(
        lambda: metric(stack, "cases", "buurtsignaal_dead_letter_messages", queue="cases.dlq"),
        lambda depth: depth >= 1,
        what="the dead-letter gauge",
    )
    the_dead_letter_alert_fires_on(await scrape(stack, "cases"), tmp_path)
    labels = {"event_type": RECEIVED}
    assert await metric(
        stack, "cases", "buurtsignaal_events_dead_lettered_total", reason="delivery-limit", **labels
    ) == 1
    assert await metric(
        stack, "cases", "buurtsignaal_event_handler_retries_total", **labels
    ) == DELIVERY_LIMIT + 1

    listed = operator(stack, "list")
    assert listed.returncode == 0, listed.stderr
    assert letter.message_id in listed.stdout
    assert f"delivery-limit after {DELIVERY_LIMIT + 1} deliveries" in listed.stdout
    assert f"district {MISSING_DISTRICT} is not in the area configuration" in listed.stdout
    assert await dead_letters(stack, message_id=letter.message_id), "listing takes nothing"

    # The fix: the configuration gains the district; cases is restarted with it.
    write_areas(cases_areas)
    restart(stack, "cases")

    replayed = operator(stack, "replay", "--id", letter.message_id)
    assert replayed.returncode == 0, replayed.stderr
    assert f"replayed 1 message(s) to the 'cases' queue\n  {letter.message_id}" in replayed.stdout

    (case,) = await eventually(
        lambda: cases_of(stack, signal["person"]), what="the case opened by the replay"
    )
    assert (case["district"], case["team"]) == (MISSING_DISTRICT, "wot-groenoord")
    assert [s["signal_id"] for s in case["signals"]] == [signal["id"]]
    assert await dead_letters(stack, message_id=letter.message_id) == []
    # Exactly once, in cases, in the team's inbox and in the report of case-opened events.
    await eventually(
        lambda: cases_opened_in(stack, MISSING_DISTRICT), lambda n: n == 1, what="the count"
    )
    (told,) = await eventually(lambda: told_of(stack, case["id"]), what="the team told")
    assert told["topic"] == "case-opened"
    again = operator(stack, "replay", "--id", letter.message_id)
    assert again.returncode == 1 and f"not in cases.dlq: {letter.message_id}" in again.stderr
    assert len(await cases_of(stack, signal["person"])) == 1
    assert await cases_opened_in(stack, MISSING_DISTRICT) == 1
    assert len(await told_of(stack, case["id"])) == 1


async def publish_raw(stack: Stack, body: bytes, message_id: str) -> None:
    """What a broken producer might send: the right type and routing key, a bad body."""
    connection = await aio_pika.connect(stack.amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(EVENTS_EXCHANGE)
        message = aio_pika.Message(
            body,
            message_id=message_id,
            type=RECEIVED,
            content_type="application/cloudevents+json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await exchange.publish(message, routing_key="signals.signal-received.v1")
    finally:
        await connection.close()


async def test_a_message_that_cannot_be_parsed_goes_to_the_dead_letter_queue_at_once(
    stack: Stack,
):
    not_json, not_an_event = (f"poison-{uuid.uuid4().hex[:12]}" for _ in range(2))
    await publish_raw(stack, b"{this is not json", not_json)
    await publish_raw(stack, json.dumps({"specversion": "1.0", "data": {}}).encode(), not_an_event)

    async def ours() -> dict[str, DeadLetter]:
        letters = await list_dead_letters(stack.amqp_url, "cases")
        return {x.message_id: x for x in letters if x.message_id in {not_json, not_an_event}}

    letters = await eventually(ours, lambda found: len(found) == 2, what="both in cases.dlq")
    for letter in letters.values():
        assert (letter.reason, letter.deliveries) == ("rejected", 1)
        assert "cannot be parsed" in letter.error
    for message_id in letters:
        assert not any(
            e["message"].startswith("handler failed") for e in log_of(stack, "cases", message_id)
        ), "not retried"
    await eventually(
        lambda: metric(stack, "cases", "buurtsignaal_dead_letter_messages", queue="cases.dlq"),
        lambda depth: depth >= 2,
        what="the dead-letter gauge",
    )

    # Replaying one that is still broken: it goes round once and is back, the other stays.
    replayed = operator(stack, "replay", "--id", not_json)
    assert replayed.returncode == 0 and replayed.stdout.count("poison-") == 1, replayed.stdout
    await eventually(ours, lambda found: set(found) == {not_json, not_an_event}, what="back")
    listed = operator(stack, "list", "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {r["message_id"]: r["deliveries"] for r in rows if r["message_id"] in letters} == {
        not_json: 1,
        not_an_event: 1,
    }
    await _take(stack, {not_json, not_an_event})


async def _take(stack: Stack, message_ids: set[str]) -> None:
    """Leave cases.dlq as it was before this test."""
    connection = await aio_pika.connect(stack.amqp_url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue("cases.dlq", passive=True)
        others = []
        while message := await queue.get(no_ack=False, fail=False):
            if message.message_id in message_ids:
                await message.ack()
            else:
                others.append(message)
        for message in others:
            await message.nack(requeue=True)
    finally:
        await connection.close()
