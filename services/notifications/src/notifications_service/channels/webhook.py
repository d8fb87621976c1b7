"""Webhooks to partner systems: a signed POST per delivery.

Signed the Standard Webhooks way (see domain/webhooks.py): ``webhook-id`` is
the delivery id and stays the same on every retry, so a receiver drops a copy;
``webhook-timestamp`` is signed too, so a recorded request cannot be replayed
later. A 2xx answer is success; anything else, or no answer within the
timeout, is a failed attempt that the retry schedule tries again. 410 Gone is a
partner saying "stop": that delivery is not retried.
"""

from __future__ import annotations

import json

import httpx

from notifications_service.channels import SendResult
from notifications_service.domain.deliveries import AttemptOutcome
from notifications_service.domain.webhooks import signature_headers
from notifications_service.store.deliveries import Delivery
from servicekit.clock import Clock

USER_AGENT = "buurtsignaal-notifications/1.0 (webhooks)"


def encode_body(body: dict[str, object]) -> bytes:
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


class WebhookPoster:
    def __init__(
        self, clock: Clock, timeout: float, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._clock = clock
        self._http = httpx.AsyncClient(
            timeout=timeout,
            transport=transport,
            follow_redirects=False,  # a redirect could carry the signed body elsewhere
            headers={"User-Agent": USER_AGENT},
        )

    async def post(self, delivery: Delivery, url: str, secret: str) -> SendResult:
        assert delivery.webhook is not None
        body = encode_body(delivery.webhook.body)
        timestamp = int(self._clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            **signature_headers(secret, str(delivery.id), timestamp, body),
        }
        try:
            response = await self._http.post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            return SendResult(AttemptOutcome.FAILED, type(error).__name__)
        if 200 <= response.status_code < 300:
            return SendResult(AttemptOutcome.SENT, status_code=response.status_code)
        outcome = AttemptOutcome.REFUSED if response.status_code == 410 else AttemptOutcome.FAILED
        return SendResult(outcome, f"http-{response.status_code}", response.status_code)

    async def aclose(self) -> None:
        await self._http.aclose()
