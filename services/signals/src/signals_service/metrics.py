"""Business metrics of the signals service, on the service's own registry.

Counted after the transaction commits, so a retried transaction counts once.
Labels are codes, never ids.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge


class SignalsMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.intake = Counter(
            "buurtsignaal_signals_intake",
            "Signals offered for intake, by channel and result.",
            ["channel", "result"],
            registry=registry,
        )
        self.matches = Counter(
            "buurtsignaal_signal_matches",
            "Organisations that joined a match (one signal-matched each).",
            ["kind"],
            registry=registry,
        )
        self.lifecycle = Counter(
            "buurtsignaal_signals_lifecycle",
            "Signals withdrawn, deleted, expired and archive entries purged.",
            ["outcome"],
            registry=registry,
        )
        self.retention_failures = Gauge(
            "buurtsignaal_retention_failures",
            "Signals or archive records the last retention run could not handle.",
            registry=registry,
        )
        self.retention_last_run = Gauge(
            "buurtsignaal_retention_last_run_timestamp_seconds",
            "When the retention job last completed (alert when it falls behind).",
            registry=registry,
        )

    def retention(self, *, expired: int, purged: int, failed: int, at: datetime) -> None:
        self.lifecycle.labels("expired").inc(expired)
        self.lifecycle.labels("purged").inc(purged)
        self.retention_failures.set(failed)
        self.retention_last_run.set(at.timestamp())
