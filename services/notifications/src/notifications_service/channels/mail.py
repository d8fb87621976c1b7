"""E-mail over SMTP (aiosmtplib): one message per delivery.

The Message-ID is derived from the delivery id, the same on every attempt, so a
mail system that sees a message twice (a crash between the server's "250 OK"
and the recording of it) can recognise the copy.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from notifications_service.channels import SendResult
from notifications_service.domain.deliveries import AttemptOutcome
from notifications_service.store.deliveries import Delivery
from servicekit.clock import Clock


class Mailer:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        clock: Clock,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._clock = clock
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout

    def message(self, delivery: Delivery) -> EmailMessage:
        assert delivery.email is not None
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = delivery.email.to
        message["Subject"] = delivery.email.subject
        message["Date"] = format_datetime(self._clock.now())
        message["Message-ID"] = f"<{delivery.id}@buurtsignaal>"
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
        message["X-Buurtsignaal-Topic"] = delivery.topic
        message.set_content(delivery.email.text)
        message.add_alternative(delivery.email.html, subtype="html")
        return message

    async def send(self, delivery: Delivery) -> SendResult:
        try:
            await aiosmtplib.send(
                self.message(delivery),
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                start_tls=self._starttls,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = [r.code for r in refused.recipients]
            permanent = all(500 <= code < 600 for code in codes)
            return SendResult(
                AttemptOutcome.REFUSED if permanent else AttemptOutcome.FAILED,
                "SMTPRecipientsRefused",
                codes[0] if codes else None,
            )
        except aiosmtplib.SMTPResponseException as error:
            # 5xx is the server's final word on this message; 4xx means "later".
            permanent = 500 <= error.code < 600
            return SendResult(
                AttemptOutcome.REFUSED if permanent else AttemptOutcome.FAILED,
                type(error).__name__,
                error.code,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            return SendResult(AttemptOutcome.FAILED, type(error).__name__)
        return SendResult(AttemptOutcome.SENT)
