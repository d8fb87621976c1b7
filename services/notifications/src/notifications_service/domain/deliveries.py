"""A delivery: one message to one recipient through one channel, and what may happen to it.

| status    | what happens                                    | next status                       |
|-----------|-------------------------------------------------|-----------------------------------|
| pending   | an attempt succeeds                             | sent                              |
| pending   | an attempt fails, and the schedule has a retry  | pending (next attempt later)      |
| pending   | an attempt fails, no retry left, or permanently | dead                              |
| pending   | its subscription was deleted or switched off    | cancelled                         |
| dead      | an admin sends it again                         | pending (attempts start over)     |

Every attempt is recorded with its outcome. A delivery is created once per
event, channel and recipient (a unique key), in the transaction that handles
the event; a redelivered event never creates a second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"
    CANCELLED = "cancelled"


class AttemptOutcome(StrEnum):
    SENT = "sent"
    FAILED = "failed"  # may be retried
    REFUSED = "refused"  # permanently: never retried


@dataclass(frozen=True)
class RetrySchedule:
    """The delays before each retry; the number of attempts is one more than the delays."""

    delays: tuple[float, ...]

    @classmethod
    def of(cls, delays: Sequence[float]) -> RetrySchedule:
        return cls(tuple(delays))

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def next_attempt(self, attempts_made: int, now: datetime) -> datetime | None:
        """When to try again after ``attempts_made`` failed attempts; None: give up."""
        if attempts_made < 1 or attempts_made > len(self.delays):
            return None
        return now + timedelta(seconds=self.delays[attempts_made - 1])

    @property
    def total(self) -> timedelta:
        """How long from the first attempt to the last."""
        return timedelta(seconds=sum(self.delays))


@dataclass(frozen=True)
class Decision:
    status: DeliveryStatus
    next_attempt_at: datetime | None = None

    @property
    def retried(self) -> bool:
        return self.status is DeliveryStatus.PENDING


def after_attempt(
    outcome: AttemptOutcome, attempts_made: int, schedule: RetrySchedule, now: datetime
) -> Decision:
    """The delivery's next status after an attempt (the table above)."""
    if outcome is AttemptOutcome.SENT:
        return Decision(DeliveryStatus.SENT)
    if outcome is AttemptOutcome.REFUSED:
        return Decision(DeliveryStatus.DEAD)
    retry_at = schedule.next_attempt(attempts_made, now)
    if retry_at is None:
        return Decision(DeliveryStatus.DEAD)
    return Decision(DeliveryStatus.PENDING, retry_at)
