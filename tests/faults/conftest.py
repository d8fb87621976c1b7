"""The four services as processes, on a vhost and a database process of their own, and a
witness that reads what each service did through its own authenticated API.

One stack serves every fault test (starting it costs half a minute on this machine);
each test checks all signals accepted so far, so a fault in one test that left a
duplicate or a gap behind is found by every later one as well.
"""

from __future__ import annotations

import collections
import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest

from servicekit.devstack.processes import SERVICES, DatabaseProcess, Stack, free_port
from servicekit.testing import eventually, token_for
from servicekit.testing.fixtures import isolated_vhost
from servicekit.testing.load import SignalLoad, Submission, bsns_of_the_test_range
from servicekit.topology import dead_letter_queue, queue_depth

TEAMS = ["wot-centrum", "wot-oost", "wot-west", "wot-zuid", "wot-groenoord", "wot-noord"]
REPORTER = token_for("r-faults-police", "reporter", org="politie-schiedam", ttl_seconds=7200)
ADMIN = token_for("admin-faults", "admin", ttl_seconds=7200)
EVERY_TEAM = token_for("w-faults", "worker", teams=TEAMS, ttl_seconds=7200)
ANALYST = token_for("a-faults", "analyst", ttl_seconds=7200)

RATE = 6.0  # signals per second: steady, well below what the stand-in takes here (~25/s)
GRACEFUL_TIMEOUT = 10.0
SETTINGS = {
    "LOG_LEVEL": "INFO",
    "MONGODB_TIMEOUT_MS": "750",  # a request waits about this long for the database
    "GRACEFUL_TIMEOUT": str(GRACEFUL_TIMEOUT),
    "OUTBOX_POLL_INTERVAL": "0.5",
    "DEAD_LETTER_PROBE_INTERVAL": "1",
    "DELIVERY_POLL_INTERVAL": "0.5",
}
CONSUMERS = ("signals", "cases", "notifications", "reporting")
SETTLE_TIMEOUT = 240.0
RUN_DIR = Path(__file__).resolve().parents[2] / ".run" / "faults"  # logs, figures (ignored)
FIGURES = RUN_DIR / "figures.json"


@dataclass
class FaultStack:
    graceful_timeout = GRACEFUL_TIMEOUT
    stack: Stack
    database: DatabaseProcess
    amqp_url: str
    bsns: Iterator[str] = field(default_factory=bsns_of_the_test_range)
    loads: list[SignalLoad] = field(default_factory=list)

    def url(self, service: str) -> str:
        return self.stack.url(service)

    def load(self, rate: float = RATE) -> SignalLoad:
        """A load whose accepted signals every later check includes (also when its test
        fails half-way, so the next test does not mistake them for strays)."""
        load = SignalLoad(self.url("signals"), REPORTER, rate=rate, bsns=self.bsns)
        self.loads.append(load)
        return load

    @property
    def accepted(self) -> list[Submission]:
        return [s for load in self.loads for s in load.accepted]

    def ensure_running(self) -> None:
        """Start what an earlier, failed test left stopped."""
        if self.database.process is None or self.database.process.poll() is not None:
            self.database.start()
        for service in self.stack.services.values():
            if service.process is None or service.process.poll() is not None:
                service.start()
                service.wait_ready(90)

    @staticmethod
    def assert_all_accepted(load: SignalLoad) -> None:
        assert not load.not_accepted, (
            f"{len(load.not_accepted)} signals were never accepted: "
            f"{[s.final_status for s in load.not_accepted][:10]}"
        )


@pytest.fixture(scope="session")
def fault_stack(amqp_base_url: str) -> Iterator[FaultStack]:
    """The stack's logs and data stay in .run/faults/stack/ until the next run."""
    workdir = RUN_DIR / "stack"
    shutil.rmtree(workdir, ignore_errors=True)
    FIGURES.unlink(missing_ok=True)
    database = DatabaseProcess(workdir / "db", workdir / "secantusdb.log")
    with isolated_vhost(amqp_base_url) as amqp_url:
        database.start()
        stack = Stack(
            workdir=workdir,
            amqp_url=amqp_url,
            mongodb_url=database.url,
            ports={name: free_port() for name in SERVICES},
            extra_env=SETTINGS,
        )
        stack.database = database  # stopped with the stack
        try:
            stack.start(log=lambda _: None)
            yield FaultStack(stack, database, amqp_url)
        finally:
            stack.stop()


# --- reading what the services did ----------------------------------------------------


async def _pages(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[dict]:
    items: list[dict] = []
    while True:
        response = await client.get(
            url, params={"offset": len(items), "limit": 100}, headers=headers
        )
        assert response.status_code == 200, response.text
        page = response.json()["items"]
        items.extend(page)
        if len(page) < 100:
            return items


@dataclass
class Effects:
    cases: list[dict]
    inbox: list[dict]
    report_rows: list[dict]

    def signals_per_district(self) -> dict[str, int]:
        return {r["group"]: r["signals"] for r in self.report_rows if r["signals"]}

    def cases_opened_per_district(self) -> dict[str, int]:
        return {r["group"]: r["cases_opened"] for r in self.report_rows if r["cases_opened"]}


class Witness:
    """Reads each service's own GET endpoints (never another service's database)."""

    def __init__(self, fault_stack: FaultStack) -> None:
        self._stack = fault_stack

    async def counts(self, client: httpx.AsyncClient) -> tuple[int, int, int, int]:
        """Cheap progress: cases, unread inbox items, signals and cases counted in reports."""
        cases = await client.get(
            f"{self._stack.url('cases')}/api/v1/cases", params={"limit": 1}, headers=ADMIN
        )
        inbox = await client.get(
            f"{self._stack.url('notifications')}/api/v1/inbox",
            params={"limit": 1},
            headers=EVERY_TEAM,
        )
        rows = await self._report_rows(client)
        if 503 in (cases.status_code, inbox.status_code):
            return (-1, -1, -1, -1)
        return (
            cases.json()["total"],
            inbox.json()["unread"],
            sum(r["signals"] for r in rows),
            sum(r["cases_opened"] for r in rows),
        )

    async def _report_rows(self, client: httpx.AsyncClient) -> list[dict]:
        today = date.today()
        response = await client.get(
            f"{self._stack.url('reporting')}/api/v1/reports/totals",
            params={
                "first_day": (today - timedelta(days=1)).isoformat(),
                "last_day": (today + timedelta(days=1)).isoformat(),
                "group_by": "district",
            },
            headers=ANALYST,
        )
        return response.json()["rows"] if response.status_code == 200 else []

    async def effects(self, client: httpx.AsyncClient) -> Effects:
        return Effects(
            await _pages(client, f"{self._stack.url('cases')}/api/v1/cases", ADMIN),
            await _pages(client, f"{self._stack.url('notifications')}/api/v1/inbox", EVERY_TEAM),
            await self._report_rows(client),
        )

    async def settled(self, timeout: float = SETTLE_TIMEOUT) -> float:
        """Wait until every accepted signal has had its effects and the queues are empty;
        how long that took."""
        expected = len(self._stack.accepted)
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=10) as client:
            await eventually(
                lambda: self.counts(client),
                lambda counts: all(c >= expected for c in counts),
                timeout=timeout,
                interval=0.5,
                what=f"the effects of {expected} accepted signals",
            )
        await eventually(
            self.queued, lambda depth: depth == 0, timeout=60, interval=0.5, what="empty queues"
        )
        return time.monotonic() - started

    async def queued(self) -> int:
        connection = await aio_pika.connect_robust(self._stack.amqp_url)
        try:
            channel = await connection.channel()
            return sum([await queue_depth(channel, name) for name in CONSUMERS])
        finally:
            await connection.close()

    async def dead_letters(self) -> dict[str, int]:
        connection = await aio_pika.connect_robust(self._stack.amqp_url)
        try:
            channel = await connection.channel()
            names = [dead_letter_queue(name) for name in CONSUMERS]
            return {name: await queue_depth(channel, name) for name in names}
        finally:
            await connection.close()

    async def assert_every_accepted_signal_had_exactly_one_effect(self) -> None:
        accepted = self._stack.accepted
        async with httpx.AsyncClient(timeout=30) as client:
            effects = await self.effects(client)
        assert_exactly_once(accepted, effects)
        assert await self.dead_letters() == {dead_letter_queue(n): 0 for n in CONSUMERS}


def assert_exactly_once(accepted: list[Submission], effects: Effects) -> None:
    signal_ids = [s.signal_id for s in accepted]
    assert len(set(signal_ids)) == len(signal_ids), "one signal id answered for two signals"
    persons = {s.person: s for s in accepted}
    assert len(persons) == len(accepted), "every signal is about a person of its own"

    # cases: one case per person, holding that person's one signal, and no other case
    cases_of = collections.defaultdict(list)
    for case in effects.cases:
        cases_of[case["person"]].append(case)
    assert set(cases_of) == set(persons), (
        f"cases without an accepted signal: {len(set(cases_of) - set(persons))}; "
        f"accepted signals without a case: {len(set(persons) - set(cases_of))}"
    )
    several = {p: len(c) for p, c in cases_of.items() if len(c) != 1}
    assert not several, f"persons with more than one case: {several}"
    wrong = [
        (p, [s["signal_id"] for s in c[0]["signals"]])
        for p, c in cases_of.items()
        if [s["signal_id"] for s in c[0]["signals"]] != [persons[p].signal_id]
    ]
    assert not wrong, f"cases whose signals are not exactly their one signal: {wrong[:5]}"

    # notifications: the team is told once per case
    told = collections.Counter(i["case_id"] for i in effects.inbox if i["topic"] == "case-opened")
    case_ids = {c[0]["id"] for c in cases_of.values()}
    assert set(told) == case_ids, (
        f"cases nobody was told of: {len(case_ids - set(told))}; "
        f"told of unknown cases: {len(set(told) - case_ids)}"
    )
    assert {k: n for k, n in told.items() if n != 1} == {}, "a team was told twice"

    # reporting: every signal and every case counted once, in its district
    per_district = dict(collections.Counter(s.district for s in accepted))
    assert effects.signals_per_district() == per_district
    assert effects.cases_opened_per_district() == per_district


@pytest.fixture(autouse=True)
def running_stack(fault_stack: FaultStack) -> FaultStack:
    fault_stack.ensure_running()
    return fault_stack


@pytest.fixture(scope="session")
def witness(fault_stack: FaultStack) -> Witness:
    return Witness(fault_stack)


# --- figures ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def record_figures() -> Callable[[str, dict[str, Any]], None]:
    """Measured figures: printed (pytest -s) and kept in .run/faults/figures.json."""

    def record(test: str, figures: dict[str, Any]) -> None:
        FIGURES.parent.mkdir(parents=True, exist_ok=True)
        known = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
        known[test] = figures
        FIGURES.write_text(json.dumps(known, indent=2, sort_keys=True) + "\n")
        print(f"\n{test}: {json.dumps(figures, sort_keys=True)}")

    return record
