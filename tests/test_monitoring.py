"""Monitoring as code: the alert rules pass `promtool check rules` and their unit
tests (`promtool test rules`), and every metric the dashboards and rules use
exists: the services' names are read from a running service's /metrics.

promtool comes from Debian's `prometheus` package; .ci/run installs it. When it
is missing these tests FAIL (a skipped check would pass CI unseen). On a
development machine without it, `BUURTSIGNAAL_SKIP_PROMTOOL=1` turns the failure
into a visible skip; CI (CI=true) ignores that switch.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from buurtsignaal_contracts import new_event
from reporting_service.app import definition
from reporting_service.settings import ReportingSettings
from servicekit.testing import eventually
from servicekit.testing.events import publish, signal_received
from servicekit.testing.service import running_service

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "deploy/prometheus/rules"
RULE_TESTS = ROOT / "deploy/prometheus/tests"
DASHBOARDS = ROOT / "deploy/grafana/dashboards"
# Per-queue metrics of RabbitMQ's Prometheus plugin (prometheus.return_per_object_metrics).
RABBITMQ_METRICS = {
    "rabbitmq_queue_messages_ready",
    "rabbitmq_queue_messages_unacked",
    "rabbitmq_queue_consumers",
}
METRIC = re.compile(r"\b((?:buurtsignaal|faststream|rabbitmq)_[a-z0-9_]+|[a-z_]+:[a-z0-9_:]+|up)\b")


def promtool() -> str:
    found = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if found:
        return found
    hint = "promtool is missing: apt-get install -y prometheus (Debian), or set PROMTOOL"
    if os.environ.get("BUURTSIGNAAL_SKIP_PROMTOOL") == "1" and os.environ.get("CI") != "true":
        pytest.skip(f"{hint} (skipped on request)")
    pytest.fail(hint)


def run(*args: str) -> str:
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def rule_files() -> list[Path]:
    return sorted(RULES.glob("*.yml"))


def test_the_alert_rules_are_valid():
    assert rule_files(), "no alert rules"
    output = run(promtool(), "check", "rules", *map(str, rule_files()))
    assert "SUCCESS" in output


def test_the_alert_rules_pass_their_unit_tests():
    tests = sorted(RULE_TESTS.glob("*.yml"))
    assert tests, "no rule tests"
    run(promtool(), "test", "rules", *map(str, tests))


def test_every_alert_the_issue_asks_for_exists_and_is_unit_tested():
    rules = [
        r for f in rule_files() for g in yaml.safe_load(f.read_text())["groups"] for r in g["rules"]
    ]
    alerts = {r["alert"] for r in rules if "alert" in r}
    assert {
        "ServiceDown",
        "ConsumerMissing",
        "DeadLettersPresent",
        "OutboxBacklogGrowing",
    } <= alerts
    assert "DeadlineBreachRateHigh" in alerts
    tested = {
        t["alertname"]
        for f in RULE_TESTS.glob("*.yml")
        for case in yaml.safe_load(f.read_text())["tests"]
        for t in case.get("alert_rule_test", [])
    }
    assert alerts == tested, f"alerts without a unit test: {alerts - tested}"


def dashboards() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))}


def test_the_dashboards_are_provisioned_from_their_folder():
    found = dashboards()
    assert set(found) == {"operations.json", "business.json"}
    assert len({d["uid"] for d in found.values()}) == len(found)
    provider = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/dashboards/buurtsignaal.yml").read_text()
    )
    path = provider["providers"][0]["options"]["path"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert f"./deploy/grafana/dashboards:{path}:ro" in compose["services"]["grafana"]["volumes"]
    for name, board in found.items():
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == "prometheus", (name, panel["title"])
            assert panel["targets"] and all(t["expr"] for t in panel["targets"]), panel["title"]


def test_the_operations_dashboard_shows_what_operators_need():
    board = dashboards()["operations.json"]
    exprs = " ".join(t["expr"] for p in board["panels"] for t in p["targets"])
    for needed in (
        "faststream_received_processed_messages_total",
        "faststream_received_processed_messages_duration_seconds_bucket",
        "rabbitmq_queue_messages_ready",
        "buurtsignaal_outbox_backlog",
        "buurtsignaal_dead_letter_messages",
    ):
        assert needed in exprs, needed


@pytest.mark.integration
async def test_every_metric_in_dashboards_and_rules_exists(
    amqp_url, mongodb_url, database_name, amqp_connection
):
    settings = ReportingSettings(
        amqp_url=amqp_url,
        mongodb_url=mongodb_url,
        mongodb_database=database_name,
        metrics_refresh_interval=0.2,
    )
    async with running_service(definition(settings)) as service:
        await publish(amqp_connection, new_event(signal_received()))

        async def names() -> set[str]:
            text = (await service.client.get("/metrics")).text
            return {s.name for f in text_string_to_metric_families(text) for s in f.samples} | {
                f.name for f in text_string_to_metric_families(text)
            }

        exported = await eventually(
            names,
            lambda n: (
                "faststream_received_processed_messages_total" in n
                and "buurtsignaal_signals_received_total" in n
            ),
            what="the metrics",
        )
    rules = [
        r for f in rule_files() for g in yaml.safe_load(f.read_text())["groups"] for r in g["rules"]
    ]
    recorded = {r["record"] for r in rules if "record" in r}
    known = exported | RABBITMQ_METRICS | recorded | {"up"}
    # histograms and counters appear with their suffixes in queries
    known |= {f"{n}{s}" for n in exported for s in ("_bucket", "_sum", "_count", "_total")}
    exprs = [t["expr"] for b in dashboards().values() for p in b["panels"] for t in p["targets"]]
    exprs += [r["expr"] for r in rules]
    used = {m for e in exprs for m in METRIC.findall(e)}
    assert used - known == set(), f"unknown metrics: {sorted(used - known)}"
    assert {"buurtsignaal_open_cases", "buurtsignaal_lead_time_days_bucket"} <= used
