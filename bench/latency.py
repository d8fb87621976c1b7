"""End-to-end latency of the backbone at fixed offered rates.

For every signal: accepted (HTTP 201 from signals) -> case-opened observed on the
broker -> counted by reporting. Offered at fixed rates, each signal about a new
synthetic youth (so each opens a case). Prints p50/p95/p99 per rate and the RSS of
each service, and writes the figures as JSON to bench/results/.

    .venv/bin/python bench/latency.py [--rates 10 25 50] [--seconds 20]

A benchmark, not a test: it reports figures, it does not pass or fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aio_pika
import httpx

from servicekit.devstack.processes import (
    SERVICES,
    Stack,
    ensure_rabbitmq,
    free_port,
)
from servicekit.testing import token_for
from servicekit.testing.fixtures import isolated_vhost
from servicekit.topology import declare_shared

RESULTS = Path(__file__).parent / "results"
REPORTER = token_for("bench-reporter", "reporter", org="bench-school")


@dataclass
class Run:
    rate: float
    accepted: dict[str, float] = field(default_factory=dict)  # signal id -> time of 201
    request_ms: list[float] = field(default_factory=list)
    case_opened: dict[str, float] = field(default_factory=dict)  # signal id -> time seen
    counted_at: list[float] = field(default_factory=list)  # time the k-th signal was counted
    errors: int = 0
    error_statuses: dict[int, int] = field(default_factory=dict)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def transaction_retries(base_url: str) -> float:
    text = httpx.get(f"{base_url}/metrics").text
    prefix = "buurtsignaal_transaction_retries_total"
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix)
    )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_bsn(index: int) -> str:
    """The index-th number of the test range 99990000x that passes the 11-test (unique)."""
    weights = (9, 8, 7, 6, 5, 4, 3, 2)
    candidate = 0
    found = -1
    while True:
        digits = f"9999{candidate:04d}"
        check = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
        if check < 10:
            found += 1
            if found == index:
                return digits + str(check)
        candidate += 1


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def processes(stack: Stack) -> dict[str, int]:
    pids = {name: service.process.pid for name, service in stack.services.items()}
    if stack.database is not None and stack.database.process is not None:
        pids["database"] = stack.database.process.pid
    beam = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _is_beam(p)]
    if beam:
        pids["rabbitmq"] = int(beam[0].name)
    return pids


def _is_beam(proc: Path) -> bool:
    try:
        return "beam.smp" in (proc / "cmdline").read_bytes().decode(errors="ignore")
    except OSError:
        return False


def signal_body(index: int) -> dict:
    born = date.today() - timedelta(days=9 * 365)
    return {
        "source_type": "school",
        "category": "behaviour-disobedience",
        "person": {
            "bsn": bench_bsn(index),
            "date_of_birth": born.isoformat(),
            "postcode": "3124 XY",
            "house_number": str(index % 900 + 1),
        },
        "occurred_on": date.today().isoformat(),
    }


async def watch_cases(amqp_url: str, run: Run, stop: asyncio.Event) -> None:
    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel()
    exchange = await declare_shared(channel)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, "cases.case-opened.v1")

    async def seen(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        run.case_opened[json.loads(message.body)["data"]["signal_id"]] = time.monotonic()
        await message.ack()

    await queue.consume(seen)
    await stop.wait()
    await connection.close()


COUNTED = "faststream_received_processed_messages_total{"


def signals_counted(metrics: str) -> int:
    """Signals the reporting service has handled and acknowledged (from its /metrics,
    which costs the database nothing, unlike asking for a report)."""
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith(COUNTED) and "signal-received" in line and 'status="acked"' in line
        )
    )


async def watch_report(
    url: str, baseline: int, run: Run, expected: int, stop: asyncio.Event
) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        while not stop.is_set() and len(run.counted_at) < expected:
            counted = signals_counted((await client.get("/metrics")).text) - baseline
            while len(run.counted_at) < counted:
                run.counted_at.append(time.monotonic())
            await asyncio.sleep(0.02)


async def offer(stack: Stack, run: Run, seconds: float, first_index: int) -> None:
    total = int(run.rate * seconds)
    start = time.monotonic()
    async with httpx.AsyncClient(
        base_url=stack.url("signals"), headers=REPORTER, timeout=30
    ) as client:

        async def one(index: int) -> None:
            await asyncio.sleep(max(0.0, start + index / run.rate - time.monotonic()))
            sent = time.monotonic()
            response = await client.post("/api/v1/signals", json=signal_body(first_index + index))
            done = time.monotonic()
            if response.status_code == 201:
                run.accepted[response.json()["id"]] = done
                run.request_ms.append((done - sent) * 1000)
            else:
                run.errors += 1
                code = response.status_code
                run.error_statuses[code] = run.error_statuses.get(code, 0) + 1

        await asyncio.gather(*(one(i) for i in range(total)))


async def measure(stack: Stack, rate: float, seconds: float, first_index: int) -> Run:
    run = Run(rate)
    async with httpx.AsyncClient(base_url=stack.url("reporting")) as client:
        baseline = signals_counted((await client.get("/metrics")).text)
    stop = asyncio.Event()
    expected = int(rate * seconds)
    watchers = [
        asyncio.create_task(watch_cases(stack.amqp_url, run, stop)),
        asyncio.create_task(watch_report(stack.url("reporting"), baseline, run, expected, stop)),
    ]
    await asyncio.sleep(0.5)  # let the watcher's queue bind before offering
    await offer(stack, run, seconds, first_index)
    deadline = time.monotonic() + 60
    while (
        len(run.case_opened) < len(run.accepted) or len(run.counted_at) < len(run.accepted)
    ) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*watchers, return_exceptions=True)
    return run


def summarise(run: Run) -> dict:
    to_case = [
        (run.case_opened[s] - t) * 1000 for s, t in run.accepted.items() if s in run.case_opened
    ]
    accepted_sorted = sorted(run.accepted.values())
    to_report = [(c - a) * 1000 for a, c in zip(accepted_sorted, run.counted_at, strict=False)]

    def dist(values: list[float]) -> dict:
        return {
            "p50": round(percentile(values, 50), 1),
            "p95": round(percentile(values, 95), 1),
            "p99": round(percentile(values, 99), 1),
            "n": len(values),
        }

    return {
        "offered_per_second": run.rate,
        "accepted": len(run.accepted),
        "errors": run.errors,
        "error_statuses": run.error_statuses,
        "http_accept_ms": dist(run.request_ms),
        "accepted_to_case_opened_ms": dist(to_case),
        "accepted_to_report_counted_ms": dist(to_report),
    }


def machine() -> dict:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "database": "SecantusDB 0.7.0b3 (stand-in)"
        if "MONGODB_URL" not in os.environ
        else "MongoDB",
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", type=float, nargs="+", default=[10, 25, 50])
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    base = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    ensure_rabbitmq(base)
    with isolated_vhost(base) as amqp_url, tempfile.TemporaryDirectory() as workdir:
        stack = Stack(
            Path(workdir),
            amqp_url,
            os.environ.get("MONGODB_URL"),
            ports={name: free_port() for name in SERVICES},
            extra_env={"LOG_LEVEL": "WARNING"},
        )
        stack.start(log=lambda line: print(line, file=sys.stderr))
        try:
            rss_at_rest = {n: round(rss_mb(s.process.pid), 1) for n, s in stack.services.items()}
            results, index = [], 0
            pids = processes(stack)
            for rate in args.rates:
                before = {n: cpu_seconds(p) for n, p in pids.items()}
                run = asyncio.run(measure(stack, rate, args.seconds, index))
                index += len(run.accepted) + run.errors
                results.append(summarise(run))
                results[-1]["cpu_seconds"] = {
                    n: round(cpu_seconds(p) - before[n], 1) for n, p in pids.items()
                }
                print(json.dumps(results[-1]), file=sys.stderr)
            report_retries = {n: transaction_retries(s.base_url) for n, s in stack.services.items()}
            rss_after = {n: round(rss_mb(s.process.pid), 1) for n, s in stack.services.items()}
        finally:
            stack.stop()
    report = {
        "benchmark": "backbone end-to-end latency",
        "when": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "seconds_per_rate": args.seconds,
        "rates": results,
        "rss_mb_at_rest": rss_at_rest,
        "rss_mb_after_load": rss_after,
        "transaction_retries": report_retries,
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "latency.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"\nwritten to {out}")
    return 0


def print_table(report: dict) -> None:
    print(
        f"{'rate/s':>7} {'ok':>5} {'err':>4} | {'accept p50/p95/p99 ms':>24} | "
        f"{'-> case-opened p50/p95/p99':>27} | {'-> report p50/p95/p99':>24}"
    )
    for r in report["rates"]:

        def fmt(d: dict) -> str:
            return f"{d['p50']:>6}/{d['p95']:>6}/{d['p99']:>6}"

        print(
            f"{r['offered_per_second']:>7} {r['accepted']:>5} {r['errors']:>4} | "
            f"{fmt(r['http_accept_ms']):>24} | {fmt(r['accepted_to_case_opened_ms']):>27} | "
            f"{fmt(r['accepted_to_report_counted_ms']):>24}"
        )
    for r in report["rates"]:
        print(f"CPU seconds at {r['offered_per_second']}/s:", r["cpu_seconds"])
    print("transaction retries:", report["transaction_retries"])
    print("RSS MB at rest:", report["rss_mb_at_rest"], " after load:", report["rss_mb_after_load"])


if __name__ == "__main__":
    sys.exit(main())
