"""The benchmark: the floor, then the services, on the same broker and database process.

For each: RSS at rest, a short warm-up, fixed offered rates (latency, achieved rate,
backlog, CPU per process, peak RSS), then a search for the highest sustained rate.
Writes bench/results/benchmark.json and benchmark.png and prints the figures with
the targets, MET or NOT MET. A benchmark, not a test: it never fails on a figure.

    ./dev bench            the full run (about 10 minutes)
    ./dev bench --quick    a short run (about 3 minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import chart, machine
from bench.floor import running_floor
from bench.load import Target, synthetic_bsns
from bench.measure import Shared, at_rest_pids, cores_used, measure_rate, rss_of
from bench.services import running_services
from servicekit.devstack.processes import DatabaseProcess, ensure_rabbitmq, find_secantusd
from servicekit.testing.fixtures import isolated_vhost

RESULTS = Path(__file__).parent / "results"
TARGET_RATE = 50.0
TARGET_P99_MS = 100.0
TARGET_FLOOR_SHARE = 0.5
TARGET_RSS_MB = 150.0


@dataclass
class Plan:
    rates: list[float]
    seconds: float  # per offered rate
    search_steps: int  # runs spent looking for the highest sustained rate
    warm_up_seconds: float = 3.0


FULL = Plan(rates=[10, 25, 50], seconds=20, search_steps=5)
QUICK = Plan(rates=[10, 50], seconds=8, search_steps=3)


async def benchmark(target: Target, plan: Plan, bsns: Iterator[str], shared: Shared) -> dict:
    rss_at_rest = rss_of(target.processes)
    target.cores_at_rest = await cores_used(at_rest_pids(target, shared), 2.0)
    if plan.warm_up_seconds:  # imports, connection pools, caches
        await measure_rate(target, 5, plan.warm_up_seconds, bsns, shared)
    runs = [await measure_rate(target, r, plan.seconds, bsns, shared) for r in plan.rates]
    search = await highest_sustained(target, plan, bsns, shared, runs)
    every_run = runs + search["runs"]
    return {
        "rss_mb_at_rest": rss_at_rest,
        "cores_at_rest": round(target.cores_at_rest, 2),
        "rss_mb_under_load": {
            name: max(r["rss_mb_peak"][name] or 0.0 for r in every_run) for name in rss_at_rest
        },
        "fixed_rates": runs,
        "search": search,
        "cpu_ceiling_per_second": busiest(every_run)["cpu_ceiling_per_second"],
    }


def busiest(runs: list[dict]) -> dict:
    """The run with the highest achieved rate: its CPU per signal has the least idle
    work (polls, metric refreshes) spread over it."""
    return max(runs, key=lambda r: r["achieved_per_second"])


async def highest_sustained(
    target: Target, plan: Plan, bsns: Iterator[str], shared: Shared, runs: list[dict]
) -> dict:
    """Double the rate until it is no longer sustained, then halve the gap."""
    tried = {r["offered_per_second"]: r for r in runs}
    searched: list[dict] = []
    for _ in range(plan.search_steps):
        rate = next_rate(tried)
        if rate is None:
            break
        tried[rate] = await measure_rate(target, rate, plan.seconds, bsns, shared)
        searched.append(tried[rate])
    best = max((r for r in tried.values() if r["sustained"]), default=None, key=_offered)
    return {
        "runs": searched,
        "max_sustained_offered_per_second": best["offered_per_second"] if best else 0.0,
        "max_sustained_achieved_per_second": best["achieved_per_second"] if best else 0.0,
        "accepted_to_report_p99_ms": best["accepted_to_report_ms"]["p99"] if best else None,
    }


def next_rate(tried: dict[float, dict]) -> float | None:
    """The next rate to try, or None once the bracket is within 10 %."""
    good = max((rate for rate, r in tried.items() if r["sustained"]), default=0.0)
    bad = min(
        (rate for rate, r in tried.items() if not r["sustained"] and rate > good), default=None
    )
    if bad is None:
        return max(2 * good, 10.0)
    if bad - good <= max(2.0, 0.1 * good):
        return None
    return float(round((good + bad) / 2))


def _offered(run: dict) -> float:
    return float(run["offered_per_second"])


# --- targets -------------------------------------------------------------------


def targets(floor: dict, services: dict) -> list[dict]:
    return [latency_target(services), throughput_target(floor, services), rss_target(services)]


def latency_target(services: dict) -> dict:
    at_rate = [r for r in services["fixed_rates"] if r["offered_per_second"] == TARGET_RATE]
    p99 = at_rate[0]["accepted_to_report_ms"]["p99"] if at_rate else None
    met = bool(at_rate) and at_rate[0]["sustained"] and p99 is not None and p99 <= TARGET_P99_MS
    return {
        "target": f"p99 accepted -> report updated <= {TARGET_P99_MS:.0f} ms at "
        f"{TARGET_RATE:.0f} signals/s (sustained)",
        "measured": f"p99 {p99} ms, achieved {at_rate[0]['achieved_per_second']}/s"
        if at_rate
        else "not measured (50/s was not among the rates)",
        "met": met,
    }


def throughput_target(floor: dict, services: dict) -> dict:
    ratio = services_to_floor(floor, services)
    return {
        "target": f"highest sustained throughput >= {TARGET_FLOOR_SHARE:.0%} of the floor's",
        "measured": f"services {services['search']['max_sustained_offered_per_second']:.0f}/s, "
        f"floor {floor['search']['max_sustained_offered_per_second']:.0f}/s, ratio {ratio}",
        "met": ratio is not None and ratio >= TARGET_FLOOR_SHARE,
    }


def services_to_floor(floor: dict, services: dict) -> float | None:
    floor_rate = floor["search"]["max_sustained_offered_per_second"]
    services_rate = services["search"]["max_sustained_offered_per_second"]
    return round(services_rate / floor_rate, 2) if floor_rate else None


def ceiling_ratio(floor: dict, services: dict) -> float | None:
    floor_rate, services_rate = floor["cpu_ceiling_per_second"], services["cpu_ceiling_per_second"]
    return round(services_rate / floor_rate, 2) if floor_rate and services_rate else None


def rss_target(services: dict) -> dict:
    highest = {
        name: max(services["rss_mb_at_rest"][name], services["rss_mb_under_load"][name])
        for name in services["rss_mb_at_rest"]
    }
    return {
        "target": f"RSS < {TARGET_RSS_MB:.0f} MB per service, at rest and under load",
        "measured": ", ".join(f"{name} {mb:.0f} MB" for name, mb in highest.items()),
        "met": all(mb < TARGET_RSS_MB for mb in highest.values()),
    }


# --- the run -------------------------------------------------------------------


@contextlib.contextmanager
def database(workdir: Path) -> Iterator[tuple[str, int | None, str | None]]:
    """MONGODB_URL when given, else the stand-in: (url, pid or None, launcher or None)."""
    if url := os.environ.get("MONGODB_URL"):
        yield url, None, None
        return
    process = DatabaseProcess(workdir / "db", workdir / "secantusdb.log")
    process.start()
    try:
        yield process.url, process.process.pid if process.process else None, find_secantusd()
    finally:
        process.stop()


def rabbitmq_pid() -> int | None:
    """The local broker's Erlang VM, to count its CPU (None when it runs elsewhere)."""
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and b"beam.smp" in (entry / "cmdline").read_bytes():
                return int(entry.name)
    return None


Runner = Callable[[Path, str, str], contextlib.AbstractContextManager[Target]]
SYSTEMS: dict[str, Runner] = {"floor": running_floor, "services": running_services}


def run(plan: Plan, amqp_base: str) -> dict:
    ensure_rabbitmq(amqp_base)
    bsns = synthetic_bsns()
    results: dict[str, dict] = {}
    about: dict | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for name, running in SYSTEMS.items():
            print(f"benchmarking the {name} ...", file=sys.stderr)
            workdir = Path(tmp) / name
            workdir.mkdir()
            # A database process of its own for each system: the stand-in gets slower as
            # its heap grows, so the second system would otherwise pay for the first.
            with (
                database(workdir) as (mongodb_url, db, stand_in),
                isolated_vhost(amqp_base) as amqp_url,
                running(workdir, amqp_url, mongodb_url) as t,
            ):
                pids = {"database": db, "rabbitmq": rabbitmq_pid(), "load-generator": os.getpid()}
                shared = Shared({n: pid for n, pid in pids.items() if pid is not None}, mongodb_url)
                about = about or machine.describe(amqp_base, mongodb_url, stand_in)
                results[name] = asyncio.run(benchmark(t, plan, bsns, shared))
    return {
        "benchmark": "buurtsignaal: signal accepted -> case-opened -> report updated",
        "machine": about,
        "plan": asdict(plan),
        **results,
        "services_to_floor_throughput": services_to_floor(results["floor"], results["services"]),
        "services_to_floor_cpu_ceiling": ceiling_ratio(results["floor"], results["services"]),
        "targets": targets(results["floor"], results["services"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short runs, fewer search steps")
    parser.add_argument("--rates", type=float, nargs="+", help="fixed offered rates (signals/s)")
    parser.add_argument("--seconds", type=float, help="seconds per offered rate")
    parser.add_argument("--search-steps", type=int, help="runs spent on the throughput search")
    parser.add_argument("--warm-up", type=float, help="seconds of warm-up before measuring")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for JSON and PNG")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    plan = Plan(
        rates=args.rates or plan.rates,
        seconds=args.seconds or plan.seconds,
        search_steps=plan.search_steps if args.search_steps is None else args.search_steps,
        warm_up_seconds=plan.warm_up_seconds if args.warm_up is None else args.warm_up,
    )
    report = run(plan, os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "benchmark.json").write_text(json.dumps(report, indent=2) + "\n")
    chart.draw(report, args.out / "benchmark.png")
    print(summary(report))
    print(f"\nwritten: {args.out / 'benchmark.json'}, {args.out / 'benchmark.png'}")
    return 0


def summary(report: dict) -> str:
    lines = [f"machine: {json.dumps(report['machine'])}", ""]
    lines.append(
        f"{'system':<9} {'offered/s':>9} {'achieved/s':>10} {'backlog':>7} "
        f"{'accept p50/p99 ms':>18} {'-> case p50/p99':>16} {'-> report p50/p95/p99 ms':>25} "
        f"{'CPU ms/signal (db)':>19} {'db ops/signal':>13} {'tx retries/signal':>17}"
    )
    for name in ("floor", "services"):
        for r in report[name]["fixed_rates"] + report[name]["search"]["runs"]:
            lines.append(_row(name, r))
    for name in ("floor", "services"):
        search = report[name]["search"]
        lines.append(
            f"{name}: highest sustained {search['max_sustained_offered_per_second']:.0f}/s "
            f"(achieved {search['max_sustained_achieved_per_second']}/s)"
        )
    lines.append(f"services / floor throughput: {report['services_to_floor_throughput']}")
    for name in ("floor", "services"):
        lines.append(f"{name}: CPU ceiling {report[name]['cpu_ceiling_per_second']}/s")
    lines.append(f"services / floor CPU ceiling: {report['services_to_floor_cpu_ceiling']}")
    services = report["services"]
    lines.append(f"RSS MB at rest: {services['rss_mb_at_rest']}")
    lines.append(f"RSS MB under load: {services['rss_mb_under_load']}")
    lines.append("")
    for t in report["targets"]:
        lines.append(f"{'MET' if t['met'] else 'NOT MET':<8} {t['target']}: {t['measured']}")
    return "\n".join(lines)


def _row(name: str, r: dict) -> str:
    def p(d: dict, *qs: str) -> str:
        return "/".join(f"{d[q]:.0f}" if d[q] is not None else "-" for q in qs)

    mark = "" if r["sustained"] else "  saturated"
    return (
        f"{name:<9} {r['offered_per_second']:>9.0f} {r['achieved_per_second']:>10.1f} "
        f"{r['backlog_at_end']:>7} {p(r['http_accept_ms'], 'p50', 'p99'):>18} "
        f"{p(r['accepted_to_case_opened_ms'], 'p50', 'p99'):>16} "
        f"{p(r['accepted_to_report_ms'], 'p50', 'p95', 'p99'):>25} "
        f"{_cpu(r):>19} {r['database_operations_per_signal']:>13} "
        f"{_or_dash(r['transaction_retries_per_signal']):>17}{mark}"
    )


def _or_dash(value: float | None) -> str:
    return "-" if value is None else str(value)


def _cpu(run: dict) -> str:
    total = sum(c["ms_per_signal"] or 0.0 for c in run["cpu"].values())
    database = run["cpu"].get("database", {}).get("ms_per_signal")
    return f"{total:.0f} ({database:.0f})" if database is not None else f"{total:.0f}"


if __name__ == "__main__":
    sys.exit(main())
