"""The ways a notification leaves the service: e-mail, webhooks, and the live stream."""

from __future__ import annotations

from dataclasses import dataclass

from notifications_service.domain.deliveries import AttemptOutcome


@dataclass(frozen=True)
class SendResult:
    """How one attempt went: an error is a class name or a status, never a message with data."""

    outcome: AttemptOutcome
    error: str | None = None
    status_code: int | None = None
