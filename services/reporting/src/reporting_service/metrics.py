"""Business metrics for Prometheus, derived from the projection.

The figures are recomputed from the facts every ``METRICS_REFRESH_INTERVAL``
(and once right at start-up), never counted up in the process: so they are
right after a restart, equal in every replica (dashboards take ``max``, not
``sum``, over replicas), and the counters only ever grow because facts are
never deleted (erasure replaces a pseudonym, it removes no fact). Labels are
codes from short, fixed lists: source, district, team, programme, deadline,
stage.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from reporting_service.domain.measures import LEAD_TIME, LEAD_TIME_BUCKETS, OPEN_DELTA
from reporting_service.store import FactQueries
from servicekit.mongo import UnitOfWork

if TYPE_CHECKING:
    from servicekit.app import ServiceRuntime

log = logging.getLogger(__name__)

FAR_FUTURE = date(9999, 12, 31)
Labels = tuple[str, ...]


@dataclass
class Snapshot:
    signals: dict[Labels, float] = field(default_factory=dict)  # (source, district)
    cases_opened: dict[Labels, float] = field(default_factory=dict)  # (team, programme)
    cases_closed: dict[Labels, float] = field(default_factory=dict)  # (team, programme)
    open_cases: dict[Labels, float] = field(default_factory=dict)  # (team, programme)
    breaches: dict[Labels, float] = field(default_factory=dict)  # (team, deadline)
    lead_times: dict[Labels, dict[int, int]] = field(default_factory=dict)  # (stage, programme)
    taken_at: datetime | None = None


async def take_snapshot(uow: UnitOfWork) -> Snapshot:
    facts = FactQueries(uow)
    snapshot = Snapshot()

    def table(rows: Iterable[dict], *fields: str) -> dict[Labels, float]:
        return {tuple(str(r[f]) for f in fields): float(r["value"]) for r in rows}

    snapshot.signals = table(
        await facts.sums(["signals"], None, FAR_FUTURE, ["source", "district"]),
        "source",
        "district",
    )
    counted = await facts.sums(
        ["cases_opened", "cases_closed", OPEN_DELTA], None, FAR_FUTURE, ["team", "programme"]
    )
    for measure, target in (
        ("cases_opened", snapshot.cases_opened),
        ("cases_closed", snapshot.cases_closed),
        (OPEN_DELTA, snapshot.open_cases),
    ):
        target.update(table((r for r in counted if r["measure"] == measure), "team", "programme"))
    snapshot.breaches = table(
        await facts.sums(["deadline_breaches"], None, FAR_FUTURE, ["team", "code"]), "team", "code"
    )
    stages = {measure: stage.value for stage, measure in LEAD_TIME.items()}
    for row in await facts.counts_by_value(list(stages), None, FAR_FUTURE, ["programme"]):
        histogram = snapshot.lead_times.setdefault((stages[row["measure"]], row["programme"]), {})
        histogram[int(row["value"])] = int(row["count"])
    return snapshot


class BusinessMetrics(Collector):
    """A Prometheus collector that serves the last snapshot."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._snapshot = Snapshot()
        registry.register(self)

    def update(self, snapshot: Snapshot, taken_at: datetime) -> None:
        snapshot.taken_at = taken_at
        self._snapshot = snapshot

    def describe(self) -> Iterable[Metric]:
        return list(self._families(Snapshot()))

    def collect(self) -> Iterable[Metric]:
        return list(self._families(self._snapshot))

    @staticmethod
    def _families(s: Snapshot) -> Iterable[Metric]:
        def counter(name: str, doc: str, labels: list[str], values: dict[Labels, float]) -> Metric:
            family = CounterMetricFamily(name, doc, labels=labels)
            for key, value in sorted(values.items()):
                family.add_metric(list(key), value)
            return family

        yield counter(
            "buurtsignaal_signals_received",
            "Signals received, by source type and district.",
            ["source", "district"],
            s.signals,
        )
        yield counter(
            "buurtsignaal_cases_opened",
            "Cases opened, by team and programme.",
            ["team", "programme"],
            s.cases_opened,
        )
        yield counter(
            "buurtsignaal_cases_closed",
            "Cases closed, by team and programme.",
            ["team", "programme"],
            s.cases_closed,
        )
        yield counter(
            "buurtsignaal_deadline_breaches",
            "Deadlines breached (counted once however often escalated), by team and deadline.",
            ["team", "deadline"],
            s.breaches,
        )
        open_cases = GaugeMetricFamily(
            "buurtsignaal_open_cases",
            "Cases open now, by team and programme.",
            labels=["team", "programme"],
        )
        for key, value in sorted(s.open_cases.items()):
            open_cases.add_metric(list(key), value)
        yield open_cases
        lead = HistogramMetricFamily(
            "buurtsignaal_lead_time_days",
            "Days from a case's first signal to its first contact that reached the person, "
            "its first screening, and each closure, by stage and programme.",
            labels=["stage", "programme"],
        )
        for key, histogram in sorted(s.lead_times.items()):
            buckets, seen = [], 0
            for bound in LEAD_TIME_BUCKETS:
                seen = sum(n for days, n in histogram.items() if days <= bound)
                buckets.append((str(float(bound)), seen))
            buckets.append(("+Inf", sum(histogram.values())))
            total = float(sum(days * n for days, n in histogram.items()))
            lead.add_metric(list(key), buckets, total)
        yield lead
        refreshed = GaugeMetricFamily(
            "buurtsignaal_business_metrics_refreshed_timestamp_seconds",
            "When the business metrics were last derived from the projection (Unix time).",
        )
        if s.taken_at is not None:
            refreshed.add_metric([], s.taken_at.timestamp())
        yield refreshed


async def refresh_business_metrics(runtime: ServiceRuntime, now: datetime) -> Snapshot:
    """Scheduled job: derive the business metrics from the facts (idempotent)."""
    snapshot = await runtime.transactions.run(take_snapshot)
    runtime.get(BusinessMetrics).update(snapshot, now)
    return snapshot
