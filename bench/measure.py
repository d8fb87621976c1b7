"""One fixed offered rate against one system: latency, achieved rate, backlog, CPU, RSS.

Definitions (the README repeats them):
- accepted: the client has the HTTP 201 for the signal;
- case opened: the `case-opened` event for it passed the broker's exchange;
- report updated: reporting's counter grew for it (see load.watch_reports);
- achieved rate: report updates per second over the second half of the offering;
- backlog: signals offered but not yet counted by reporting when the offering ended
  (it ends early, and the run counts as saturated, once the backlog exceeds five
  seconds of offered load: the queue only grows from there);
- sustained: no errors, achieved >= 95 % of offered, and p99 of accept and of
  accepted -> report updated under a second (a growing queue would push it past).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from pymongo import AsyncMongoClient

from bench.load import Target, Timeline, offer, watch_case_opened, watch_reports

SUSTAINED_SHARE = 0.95
LATENCY_BOUND_MS = 1000.0
DRAIN_SECONDS = 60.0
GIVE_UP_BACKLOG_SECONDS = 5.0
SETTLED_SECONDS = 1.0
SETTLE_SECONDS = 180.0
QUIET_MARGIN_CORES = 0.15
RSS_SAMPLE_SECONDS = 0.5


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def distribution(values: list[float]) -> dict:
    def rounded(q: float) -> float | None:
        value = percentile(values, q)
        return None if value is None else round(value, 1)

    return {"p50": rounded(50), "p95": rounded(95), "p99": rounded(99), "n": len(values)}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise ValueError(f"no VmRSS for process {pid}")


def rss_of(processes: dict[str, int]) -> dict[str, float]:
    return {name: rss_mb(pid) for name, pid in processes.items()}


async def sample_peak_rss(processes: dict[str, int], peak: dict[str, float]) -> None:
    """Keep the highest RSS seen per process until cancelled."""
    while True:
        for name, value in rss_of(processes).items():
            peak[name] = max(peak.get(name, 0.0), value)
        await asyncio.sleep(RSS_SAMPLE_SECONDS)


@dataclass
class Shared:
    """The processes around a system under test: its database, the broker, the load generator."""

    processes: dict[str, int]  # name -> pid, for CPU seconds
    mongodb_url: str


async def database_operations(mongodb_url: str) -> int:
    """Operations the database process has served so far (all kinds, commands too)."""
    client: AsyncMongoClient = AsyncMongoClient(mongodb_url)
    try:
        status = await client.admin.command("serverStatus")
    finally:
        await client.close()
    return sum(int(count) for count in status["opcounters"].values())


async def measure_rate(
    target: Target, rate: float, seconds: float, bsns: Iterator[str], shared: Shared
) -> dict:
    """Offer ``rate`` signals/s for ``seconds`` and follow every one to the report."""
    settled_after = await settle(target, shared)
    timeline = Timeline()
    peak: dict[str, float] = {}
    counting = Counting(target, shared)
    async with _watching(target, timeline, peak):
        await counting.start()
        started = time.monotonic()
        stop = asyncio.Event()
        offering = asyncio.create_task(offer(target, rate, seconds, bsns, timeline, stop))
        window = await _offer_window(timeline, rate, seconds, started)
        backlog = timeline.offered - len(timeline.reported)
        stop.set()
        await offering
        drained = await _drain(timeline)
        counted = await counting.stop(max(len(timeline.accepted), len(timeline.case_opened)))
    result = {
        "offered_per_second": rate,
        "seconds": round(window, 1),
        "offered": timeline.offered,
        "accepted": len(timeline.accepted),
        "errors": timeline.errors,
        "achieved_per_second": achieved(timeline, started, window),
        "backlog_at_end": backlog,
        "gave_up_early": window < seconds,
        "drained": drained,
        **latencies(timeline),
        **counted,
        "settled_before_seconds": settled_after,
        "rss_mb_peak": {name: peak.get(name) for name in target.processes},
    }
    result["sustained"] = is_sustained(result)
    return result


class Counting:
    """What the processes count themselves over a run: CPU seconds, database
    operations, transaction retries; per signal handled at the end."""

    def __init__(self, target: Target, shared: Shared) -> None:
        self._target, self._shared = target, shared
        self._processes = {**target.processes, **shared.processes}

    async def _read(self) -> tuple[float, dict[str, float], int, int | None]:
        return (
            time.monotonic(),
            {name: cpu_seconds(pid) for name, pid in self._processes.items()},
            await database_operations(self._shared.mongodb_url),
            await transaction_retries(self._target),
        )

    async def start(self) -> None:
        self._before = await self._read()

    async def stop(self, signals: int) -> dict:
        (t0, cpu0, ops0, retries0), (t1, cpu1, ops1, retries1) = self._before, await self._read()
        per_signal = 1 / max(1, signals)
        retried = None if retries0 is None or retries1 is None else retries1 - retries0
        return {
            "cpu": (split := cpu_split({n: cpu1[n] - cpu0[n] for n in cpu0}, t1 - t0, signals)),
            "cpu_ceiling_per_second": cpu_ceiling(split, self._target.processes),
            "database_operations_per_signal": round((ops1 - ops0) * per_signal, 1),
            "transaction_retries_per_signal": None
            if retried is None
            else round(retried * per_signal, 2),
        }


async def _offer_window(timeline: Timeline, rate: float, seconds: float, started: float) -> float:
    """Wait out the offering; stop early once the backlog is hopeless (more than
    GIVE_UP_BACKLOG_SECONDS of offered load), so a saturated run drains in bounded time."""
    while (elapsed := time.monotonic() - started) < seconds:
        if timeline.offered - len(timeline.reported) > rate * GIVE_UP_BACKLOG_SECONDS:
            return elapsed
        await asyncio.sleep(min(0.25, seconds - elapsed))
    return seconds


async def cores_used(pids: dict[str, int], seconds: float) -> float:
    """Cores these processes used together over the next ``seconds``."""
    before = sum(cpu_seconds(pid) for pid in pids.values())
    await asyncio.sleep(seconds)
    return (sum(cpu_seconds(pid) for pid in pids.values()) - before) / seconds


def at_rest_pids(target: Target, shared: Shared) -> dict[str, int]:
    """The system's processes and the database: what must be quiet between runs."""
    database = {n: p for n, p in shared.processes.items() if n == "database"}
    return {**target.processes, **database}


async def settle(target: Target, shared: Shared) -> float:
    """Wait until the system is at rest again: reporting's count has stopped moving and
    its processes and the database use no more CPU than at rest (plus a margin). A
    saturated run leaves abandoned requests and retried transactions behind."""
    started = time.monotonic()
    pids = at_rest_pids(target, shared)
    async with httpx.AsyncClient(timeout=5) as client:
        last = target.counted((await client.get(target.metrics_url)).text)
        while time.monotonic() - started < SETTLE_SECONDS:
            busy = await cores_used(pids, SETTLED_SECONDS)
            counted = target.counted((await client.get(target.metrics_url)).text)
            if counted == last and busy <= target.cores_at_rest + QUIET_MARGIN_CORES:
                break
            last = counted
    return round(time.monotonic() - started, 1)


async def transaction_retries(target: Target) -> int | None:
    if not target.retry_metrics_urls:
        return None
    async with httpx.AsyncClient(timeout=5) as client:
        pages = [(await client.get(url)).text for url in target.retry_metrics_urls]
    return sum(retries_in(page) for page in pages)


def retries_in(metrics: str) -> int:
    prefix = "buurtsignaal_transaction_retries_total"
    lines = (line for line in metrics.splitlines() if line.startswith(prefix))
    return int(sum(float(line.rsplit(" ", 1)[1]) for line in lines))


@contextlib.asynccontextmanager
async def _watching(target: Target, timeline: Timeline, peak: dict[str, float]):
    ready = asyncio.Event()
    tasks = [
        asyncio.create_task(watch_case_opened(target.amqp_url, timeline, ready)),
        asyncio.create_task(watch_reports(target, timeline)),
        asyncio.create_task(sample_peak_rss(target.processes, peak)),
    ]
    try:
        await asyncio.wait_for(ready.wait(), 30)
        await asyncio.sleep(0.2)  # the report watcher has read its baseline
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _drain(timeline: Timeline) -> bool:
    """Wait (bounded) until every accepted signal has opened a case and been counted."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        accepted = len(timeline.accepted)
        if len(timeline.case_opened) >= accepted and len(timeline.reported) >= accepted:
            return True
        await asyncio.sleep(0.05)
    return False


def achieved(timeline: Timeline, started: float, window: float) -> float:
    """Report updates per second over the second half of the offering: by then the
    pipeline is full, so its filling does not count against the rate."""
    half = started + window / 2
    done = sum(1 for t in timeline.reported if half <= t <= started + window)
    return round(done / (window / 2), 1)


def latencies(timeline: Timeline) -> dict:
    accepted = timeline.accepted
    to_case = [t - accepted[s] for s, t in timeline.case_opened.items() if s in accepted]
    to_report = [
        reported - accepted[s]
        for s, reported in zip(timeline.case_order, timeline.reported, strict=False)
        if s in accepted
    ]
    http = [accepted[s] - sent for s, sent in timeline.sent_of.items()]
    return {
        "http_accept_ms": distribution([v * 1000 for v in http]),
        "accepted_to_case_opened_ms": distribution([v * 1000 for v in to_case]),
        "accepted_to_report_ms": distribution([v * 1000 for v in to_report]),
    }


def cpu_split(cpu: dict[str, float], elapsed: float, signals: int) -> dict:
    """Per process: cores used on average, and CPU milliseconds per signal handled."""
    return {
        name: {
            "cores": round(seconds / elapsed, 2),
            "ms_per_signal": round(seconds * 1000 / signals, 1) if signals else None,
        }
        for name, seconds in cpu.items()
    }


def cpu_ceiling(split: dict, own: Iterable[str]) -> float | None:
    """Signals/s at which the system's processes and the database would fill every core
    of this machine, or one core for the busiest of them (each is one Python process),
    whichever comes first: what it could carry with the machine to itself. CPU per
    signal changes little when other work competes for the cores; throughput does."""
    needs = [split[n]["ms_per_signal"] for n in [*own, "database"] if n in split]
    needs = [ms for ms in needs if ms]
    if not needs:
        return None
    cores = os.cpu_count() or 1
    return round(min(cores * 1000 / sum(needs), 1000 / max(needs)), 1)


def is_sustained(result: dict) -> bool:
    p99s = [result["http_accept_ms"]["p99"], result["accepted_to_report_ms"]["p99"]]
    return (
        not result["errors"]
        and result["drained"]
        and result["achieved_per_second"] >= SUSTAINED_SHARE * result["offered_per_second"]
        and all(p is not None and p <= LATENCY_BOUND_MS for p in p99s)
    )
