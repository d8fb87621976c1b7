"""A steady stream of signals, submitted as a careful partner system would.

Each signal is about a synthetic person of its own (a BSN from the test range
that passes the 11-test) and carries an ``Idempotency-Key``. The client retries
a signal with the same key and the same body when the answer is 503 (or 502,
504, 500) or the connection failed or timed out, until it is accepted (201) or
its time is up; any other answer is final. So a signal the service stored but
whose answer was lost is not stored twice, and one it could not store is sent
again: every signal ends up accepted exactly once, or is reported as not.

Used by the fault tests (tests/faults/) and the benchmark::

    async with SignalLoad(signals_url, headers, rate=6) as load:
        ...                       # break things
    load.accepted                  # every accepted signal, with its id and pseudonym
    load.attempts                  # every HTTP attempt: when, how long, what came back
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from servicekit.devstack.scenario import POSTCODES, WEIGHTS
from servicekit.testing.helpers import eventually

RETRYABLE = {500, 502, 503, 504}
TEST_RANGE_PREFIX = "9999"  # 999900000-999999999: the test persons' range


def bsns_of_the_test_range(start: int = 0) -> Iterator[str]:
    """Every BSN of the test range that passes the 11-test, in order, from ``start``
    (0-9999): unique by construction, about 9,000 of them."""
    for n in itertools.chain(range(start, 10_000), range(start)):
        digits = f"{TEST_RANGE_PREFIX}{n:04d}"
        check = sum(int(d) * w for d, w in zip(digits, WEIGHTS[:8], strict=True)) % 11
        if check < 10:
            yield digits + str(check)


@dataclass
class Attempt:
    key: str
    started: float  # time.monotonic()
    seconds: float
    status: int | None  # None: no answer (connection refused or reset, timeout)
    content_type: str = ""
    error: str = ""

    @property
    def ended(self) -> float:
        return self.started + self.seconds


@dataclass
class Submission:
    key: str
    district: str
    body: dict[str, Any]
    first_sent: float
    accepted_at: float | None = None
    signal_id: str | None = None
    person: str | None = None
    final_status: int | None = None
    attempts: int = 0


@dataclass
class SignalLoad:
    """Submits ``rate`` signals per second (open loop) until stopped."""

    signals_url: str
    headers: dict[str, str]
    rate: float = 6.0
    request_timeout: float = 10.0
    give_up_after: float = 180.0
    retry_delay: tuple[float, float] = (0.2, 1.0)  # first and longest pause between tries
    bsns: Iterator[str] | None = None  # share one between loads on the same database
    source_type: str = "police"
    category: str = "police-incident"
    submissions: list[Submission] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._bsns = self.bsns or bsns_of_the_test_range()
        self._districts = itertools.cycle(POSTCODES)
        self._tasks: set[asyncio.Task[None]] = set()
        self._submitting: asyncio.Task[None] | None = None
        self._client = httpx.AsyncClient(
            timeout=self.request_timeout,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )

    async def __aenter__(self) -> SignalLoad:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def start(self) -> None:
        self._submitting = asyncio.create_task(self._submit_steadily(), name="signal-load")

    async def stop(self, settle_timeout: float | None = None) -> None:
        """Submit no new signals; wait until every one sent is accepted or given up."""
        if self._submitting is not None:
            self._submitting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._submitting
            self._submitting = None
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=settle_timeout or self.give_up_after + 30)
        for task in self._tasks:
            task.cancel()
        await self._client.aclose()

    # --- what happened ---------------------------------------------------------------

    @property
    def accepted(self) -> list[Submission]:
        return [s for s in self.submissions if s.signal_id is not None]

    @property
    def not_accepted(self) -> list[Submission]:
        return [s for s in self.submissions if s.signal_id is None]

    async def accepted_more(self, count: int = 6, timeout: float = 90) -> None:
        """Wait until ``count`` more signals than now have been accepted."""
        target = len(self.accepted) + count

        async def accepted() -> int:
            await asyncio.sleep(0)
            return len(self.accepted)

        await eventually(
            accepted, lambda n: n >= target, timeout=timeout, interval=0.1, what="signals accepted"
        )

    def attempts_between(self, first: float, last: float) -> list[Attempt]:
        """Attempts that began and ended within [first, last] (monotonic seconds)."""
        return [a for a in self.attempts if a.started >= first and a.ended <= last]

    def first_accepted_after(self, moment: float) -> float | None:
        """When the first attempt begun after ``moment`` was accepted (monotonic)."""
        ends = [a.ended for a in self.attempts if a.started >= moment and a.status == 201]
        return min(ends, default=None)

    def summary(self) -> dict[str, Any]:
        statuses: dict[str, int] = {}
        for attempt in self.attempts:
            name = str(attempt.status) if attempt.status else f"no answer ({attempt.error})"
            statuses[name] = statuses.get(name, 0) + 1
        return {
            "signals_sent": len(self.submissions),
            "accepted": len(self.accepted),
            "not_accepted": len(self.not_accepted),
            "attempts": len(self.attempts),
            "answers": dict(sorted(statuses.items())),
        }

    # --- submitting ------------------------------------------------------------------

    async def _submit_steadily(self) -> None:
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        while True:
            task = asyncio.create_task(self._submit(self._next_submission()))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    def _next_submission(self) -> Submission:
        district = next(self._districts)
        bsn = next(self._bsns)
        body = {
            "source_type": self.source_type,
            "category": self.category,
            "person": {
                "bsn": bsn,
                "date_of_birth": (date.today() - timedelta(days=14 * 365)).isoformat(),
                "postcode": f"{POSTCODES[district]} XY",
                "house_number": str(int(bsn[-4:]) % 400 + 1),
            },
            "occurred_on": date.today().isoformat(),
        }
        submission = Submission(str(uuid.uuid4()), district, body, time.monotonic())
        self.submissions.append(submission)
        return submission

    async def _submit(self, submission: Submission) -> None:
        give_up_at = submission.first_sent + self.give_up_after
        pause = self.retry_delay[0]
        while True:
            status = await self._attempt(submission)
            if status is not None and status not in RETRYABLE:
                submission.final_status = status
                return
            if time.monotonic() + pause > give_up_at:
                submission.final_status = status
                return
            await asyncio.sleep(pause)
            pause = min(pause * 2, self.retry_delay[1])

    async def _attempt(self, submission: Submission) -> int | None:
        submission.attempts += 1
        started = time.monotonic()
        headers = {**self.headers, "Idempotency-Key": submission.key}
        try:
            response = await self._client.post(
                f"{self.signals_url}/api/v1/signals", json=submission.body, headers=headers
            )
        except httpx.TransportError as error:  # refused, reset, timed out
            self.attempts.append(
                Attempt(submission.key, started, time.monotonic() - started, None, "", _name(error))
            )
            return None
        self.attempts.append(
            Attempt(
                submission.key,
                started,
                time.monotonic() - started,
                response.status_code,
                response.headers.get("content-type", ""),
            )
        )
        if response.status_code == 201:
            body = response.json()
            submission.signal_id = body["id"]
            submission.person = body["person"]
            submission.accepted_at = time.monotonic()
        return response.status_code


def _name(error: Exception) -> str:
    return type(error).__name__


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank); 0 for none."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
