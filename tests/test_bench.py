"""The benchmark still runs: `./dev bench` briefly, at a low rate, with sane figures.

Not a performance test: nothing here depends on how fast this machine is, only on the
benchmark measuring what it says (every signal followed to the report, latencies in
order, processes seen) and writing its JSON and chart.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
RATE, SECONDS = 3, 2
SERVICES = {"signals", "cases", "notifications", "reporting"}
FLOOR = {"floor-intake", "floor-cases", "floor-reporting"}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("bench")
    command = [sys.executable, "-m", "bench.run", "--rates", str(RATE), "--seconds", str(SECONDS)]
    command += ["--search-steps", "0", "--warm-up", "0", "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=150)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "benchmark.json").read_text()), out


def test_the_machine_is_described(report):
    machine = report[0]["machine"]
    assert machine["cores"] >= 1 and machine["ram_gb"] > 0
    assert machine["rabbitmq"].startswith("RabbitMQ ")
    assert machine["database"] and machine["python"].count(".") == 2


@pytest.mark.parametrize(("system", "processes"), [("floor", FLOOR), ("services", SERVICES)])
def test_every_signal_is_followed_to_the_report(report, system, processes):
    (run,) = report[0][system]["fixed_rates"]
    assert run["offered"] == RATE * SECONDS
    assert run["accepted"] == run["offered"] and not run["errors"]
    assert run["drained"]
    for measured in ("http_accept_ms", "accepted_to_case_opened_ms", "accepted_to_report_ms"):
        latency = run[measured]
        assert latency["n"] == run["offered"], measured
        assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] < 30_000, measured
    # the report is noted only after the signal's case-opened was seen
    assert run["accepted_to_report_ms"]["p50"] >= run["accepted_to_case_opened_ms"]["p50"]
    assert 0 < run["achieved_per_second"] <= 2 * RATE
    assert processes | {"database", "load-generator"} <= set(run["cpu"])
    assert run["cpu"]["database"]["ms_per_signal"] > 0
    assert run["database_operations_per_signal"] >= 3  # at least the writes of the chain
    assert report[0][system]["cpu_ceiling_per_second"] > 0


@pytest.mark.parametrize(("system", "processes"), [("floor", FLOOR), ("services", SERVICES)])
def test_memory_is_measured_per_process(report, system, processes):
    figures = report[0][system]
    for moment in ("rss_mb_at_rest", "rss_mb_under_load"):
        assert set(figures[moment]) == processes
        assert all(10 < mb < 2000 for mb in figures[moment].values()), figures[moment]


def test_targets_are_reported_not_asserted(report):
    targets = report[0]["targets"]
    assert len(targets) == 3
    assert all(isinstance(t["met"], bool) and t["measured"] for t in targets)
    ratio = report[0]["services_to_floor_throughput"]
    assert ratio is None or ratio >= 0


def test_the_chart_is_a_png(report):
    assert (report[1] / "benchmark.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
