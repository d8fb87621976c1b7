"""The notifications service as a process: the live stream, the mayor's letter across
processes, e-mail to a real SMTP server, and a real SIGTERM with a stream open."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import io
import json
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta

import aio_pika
import httpx
import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader

from buurtsignaal_contracts import new_event
from servicekit.devstack.processes import ServiceProcess, free_port
from servicekit.testing import eventually, token_for
from servicekit.testing.event_factories import mayor_letter_requested
from servicekit.testing.events import publish
from servicekit.testing.fixtures import isolated_vhost
from servicekit.testing.tap import EventTap

pytestmark = pytest.mark.e2e

NOORD_WORKER = token_for("w-e2e-noord", "worker", teams=["wot-noord"])
WEST_WORKER = token_for("w-west-1", "worker", teams=["wot-west"])
REPORTER = token_for("r-e2e-police", "reporter", org="politie-schiedam")


class Stream:
    """Reads a Server-Sent Events response into a list of events as they come."""

    def __init__(self, response: httpx.Response) -> None:
        self.events: list[dict] = []
        self.ended = False
        self._task = asyncio.create_task(self._read(response))

    async def _read(self, response: httpx.Response) -> None:
        event: dict = {}
        try:
            async for line in response.aiter_lines():
                if line == "":
                    if event:
                        self.events.append(event)
                    event = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    event[name] = value.removeprefix(" ")
        except httpx.HTTPError:
            pass
        self.ended = True

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e.get("event") == kind]

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


@contextlib.asynccontextmanager
async def live_stream(base_url: str, headers: dict) -> AsyncIterator[Stream]:
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client,
        client.stream("GET", f"{base_url}/api/v1/inbox/stream", headers=headers) as response,
    ):
        assert response.status_code == 200
        stream = Stream(response)
        try:
            await eventually(lambda: _now(stream.of("ready")), what="the stream ready")
            yield stream
        finally:
            await stream.close()


def a_youth(postcode: str = "3124 XY", **names) -> dict:
    """A fresh synthetic youth with a test-range BSN (unique per call)."""
    while True:
        number = f"9999{uuid.uuid4().int % 10**4:04d}"
        weights = (9, 8, 7, 6, 5, 4, 3, 2)
        check = sum(int(d) * w for d, w in zip(number, weights, strict=True)) % 11
        if check != 10:
            break
    return {
        "bsn": number + str(check),
        "date_of_birth": (date.today() - timedelta(days=15 * 365)).isoformat(),
        "postcode": postcode,
        "house_number": str(uuid.uuid4().int % 500 + 1),
        **names,
    }


async def submit(signals_url: str, person: dict) -> dict:
    body = {
        "source_type": "police",
        "category": "police-incident",
        "person": person,
        "occurred_on": date.today().isoformat(),
    }
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(f"{signals_url}/api/v1/signals", json=body, headers=REPORTER)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_new_case_appears_on_the_live_stream_of_its_team(stack):
    async with live_stream(stack.url("notifications"), NOORD_WORKER) as stream:
        signal_ = await submit(stack.url("signals"), a_youth())

        async def case_ids() -> set[str]:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(
                    f"{stack.url('cases')}/api/v1/cases",
                    params={"person": signal_["person"]},
                    headers=NOORD_WORKER,
                )
            return {c["id"] for c in response.json()["items"]}

        (case_id,) = await eventually(case_ids, what="the case")
        pushed = await eventually(
            lambda: _now(
                [
                    json.loads(e["data"])
                    for e in stream.of("notification")
                    if json.loads(e["data"])["case_id"] == case_id
                ]
            ),
            what="the live notification from the other process",
        )
    assert pushed[0]["topic"] == "case-opened"


# --- signals and notifications as their own processes, wired to each other ---------------


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture(scope="module")
def pair(
    amqp_base_url: str, mongodb_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServiceProcess, ServiceProcess, Mailbox, str]]:
    """signals and notifications on a vhost of their own; notifications knows where signals
    is (SIGNALS_URL) and mails a real SMTP server. The last test of the module stops it."""
    tmp_path = tmp_path_factory.mktemp("pair")
    mailbox = Mailbox()
    smtp_port = free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    run = uuid.uuid4().hex[:8]
    with isolated_vhost(amqp_base_url) as amqp_url:
        signals_port, notifications_port = free_port(), free_port()
        common = {"AMQP_URL": amqp_url, "MONGODB_URL": mongodb_url, "LOG_LEVEL": "INFO"}
        signals = ServiceProcess(
            "signals",
            {**common, "MONGODB_DATABASE": f"e2e_signals_{run}"},
            tmp_path / "signals.log",
            signals_port,
        )
        notifications = ServiceProcess(
            "notifications",
            {
                **common,
                "MONGODB_DATABASE": f"e2e_notifications_{run}",
                "SIGNALS_URL": f"http://127.0.0.1:{signals_port}",
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(smtp_port),
                "DELIVERY_POLL_INTERVAL": "0.1",
                "GRACEFUL_TIMEOUT": "20",
            },
            tmp_path / "notifications.log",
            notifications_port,
        )
        try:
            signals.start()
            notifications.start()
            signals.wait_ready()
            notifications.wait_ready()
            yield signals, notifications, mailbox, amqp_url
        finally:
            notifications.stop()
            signals.stop()
            smtp.stop()


async def test_a_letter_is_made_from_signals_data_delivered_and_announced_across_processes(pair):
    signals, notifications, mailbox, amqp_url = pair
    youth = a_youth(
        "3117 AB",
        given_name="Noa",
        family_name="Voorbeeld",
        street="Voorbeeldstraat",
        city="Schiedam",
        guardians=[{"given_name": "Eva", "family_name": "Voorbeeld"}],
    )
    person = (await submit(signals.base_url, youth))["person"]
    request = mayor_letter_requested(person=person, worker="w-west-1")
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        await publish(connection, new_event(request))
        async with httpx.AsyncClient(base_url=notifications.base_url, timeout=10) as client:

            async def status() -> str:
                response = await client.get(
                    f"/api/v1/letters/{request.letter_id}", headers=WEST_WORKER
                )
                return response.json().get("status", "") if response.status_code == 200 else ""

            assert await eventually(status, lambda s: s in ("ready", "failed")) == "ready"
            pdf = await client.get(f"/api/v1/letters/{request.letter_id}/pdf", headers=WEST_WORKER)
            text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
            assert "Noa Voorbeeld" in text and "Eva Voorbeeld" in text
            assert "Voorbeeldstraat" in text and "3117 AB" in text
            await eventually(lambda: _now(mailbox.messages), what="the e-mail to the worker")
            assert mailbox.messages[0]["Subject"] == "De brief van de burgemeester staat klaar"

            async with EventTap(connection) as tap:
                recorded = await client.post(
                    f"/api/v1/letters/{request.letter_id}/delivery",
                    json={
                        "method": "home-visit",
                        "handed_to": "youth",
                        "delivered_on": date.today().isoformat(),
                    },
                    headers=WEST_WORKER,
                )
                assert recorded.status_code == 201, recorded.text
                (sent,) = await tap.wait_for(
                    "nl.buurtsignaal.notifications.mayor-letter-sent.v1",
                    where=lambda e: e["subject"] == str(request.letter_id),
                )
            assert sent["data"]["handed_to"] == "youth"
    finally:
        await connection.close()


async def test_sigterm_ends_open_live_streams_and_the_process_exits_well_within_its_grace(pair):
    _, notifications, _, _ = pair
    async with live_stream(notifications.base_url, WEST_WORKER) as stream:
        started = time.monotonic()
        assert notifications.process is not None
        notifications.process.send_signal(signal.SIGTERM)
        await eventually(lambda: _now(stream.ended), timeout=15, what="the stream to end")
        code = await asyncio.to_thread(notifications.process.wait, 15)
        took = time.monotonic() - started
    assert stream.of("shutdown"), "the client was told to reconnect elsewhere"
    # A graceful stop that finished its work exits 0 (servicekit.runner).
    assert code == 0
    assert '"message": "service stopped"' in notifications.log_path.read_text()
    assert took < 10, f"the open stream held the shutdown for {took:.1f}s (grace is 20s)"


async def _now(value):
    return value
