"""Fixtures of the notifications tests: the service on the real broker and database, a real
SMTP server (aiosmtpd) and a real HTTP webhook receiver on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
import uvicorn
from aiosmtpd.controller import Controller

from notifications_service.app import definition
from notifications_service.settings import NotificationsSettings
from servicekit.devstack.processes import free_port
from servicekit.testing.service import running_service

# Fast schedules: what takes a day in production takes a moment here.
FAST = dict(
    delivery_poll_interval=0.05,
    delivery_lease_seconds=5,
    email_retry_schedule=[0.05, 0.1],
    webhook_retry_schedule=[0.05, 0.1, 0.2],
    letter_render_retry_schedule=[0.05, 0.1],
    outbox_poll_interval=0.2,
    dead_letter_probe_interval=0.5,
    graceful_timeout=10,
    webhook_timeout=2,
    smtp_timeout=2,
)


# --- SMTP -------------------------------------------------------------------------------


@dataclass
class SmtpServer:
    """aiosmtpd on a free loopback port; records what it accepts, refuses when told to."""

    host: str
    port: int
    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[list[str]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # answers for the next DATA commands

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m, rcpt in zip(self.received, self.envelopes, strict=True) if address in rcpt]

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return part.get_content()

    @staticmethod
    def html(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("html",))
        assert part is not None
        return part.get_content()

    def fail_next(self, *answers: str) -> None:
        self.refusals.extend(answers)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusals:
            return self.refusals.pop(0)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(message)  # type: ignore[arg-type]
        self.envelopes.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Any:
    port = free_port()
    server = SmtpServer("127.0.0.1", port)
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


# --- Webhook receiver --------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """A partner's endpoint on a free loopback port, behind a real HTTP server (uvicorn)."""

    base_url: str
    answers: list[int] = field(default_factory=list)  # statuses for the next requests
    always: int = 204
    received: list[Received] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    holds: dict[str, asyncio.Event] = field(default_factory=dict)  # path -> answer when set

    def url(self, path: str = "/hooks/buurtsignaal") -> str:
        return f"{self.base_url}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.received.append(Received(scope["path"], headers, body))
        if (hold := self.holds.get(scope["path"])) is not None:
            await hold.wait()
        status = self.answers.pop(0) if self.answers else self.always
        self.answered.append(status)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
async def webhook_receiver() -> AsyncIterator[WebhookReceiver]:
    port = free_port()
    receiver = WebhookReceiver(f"http://127.0.0.1:{port}")
    config = uvicorn.Config(receiver, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    # Not this server's business to catch the test process's signals.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield receiver
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)


# --- The service -------------------------------------------------------------------------


def settings_for(amqp_url: str, mongodb_url: str, database: str, **changes: Any) -> Any:
    return NotificationsSettings(
        amqp_url=amqp_url, mongodb_url=mongodb_url, mongodb_database=database, **{**FAST, **changes}
    )


@pytest.fixture
def make_settings(amqp_url, mongodb_url, database_name) -> Callable[..., NotificationsSettings]:
    """Settings for a test's own service: its database, fast schedules, and ``changes``."""

    def make(**changes: Any) -> NotificationsSettings:
        return settings_for(amqp_url, mongodb_url, database_name, **changes)

    return make


@pytest.fixture
async def notifications(make_settings, smtp_server):
    settings = make_settings(smtp_host=smtp_server.host, smtp_port=smtp_server.port)
    async with running_service(definition(settings)) as service:
        yield service
