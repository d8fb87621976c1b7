"""Metrics of the notifications service, on the service's own registry.

Per channel (in-app, email, webhook): messages sent, attempts that failed,
retries scheduled, deliveries given up (dead), attempt duration and what is
waiting. Labels are channels and outcomes only, never ids.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from buurtsignaal_contracts.codes import NotificationChannel


class NotificationMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.sent = Counter(
            "buurtsignaal_notifications_sent",
            "Notifications delivered, per channel (in-app: stored in the inbox).",
            ["channel"],
            registry=registry,
        )
        self.failed = Counter(
            "buurtsignaal_notification_attempts_failed",
            "Delivery attempts that failed, per channel.",
            ["channel"],
            registry=registry,
        )
        self.retried = Counter(
            "buurtsignaal_notification_retries",
            "Failed deliveries scheduled for another attempt, per channel.",
            ["channel"],
            registry=registry,
        )
        self.dead = Counter(
            "buurtsignaal_notification_dead_letters",
            "Deliveries given up after the last attempt or a permanent refusal, per channel.",
            ["channel"],
            registry=registry,
        )
        self.duration = Histogram(
            "buurtsignaal_notification_attempt_duration_seconds",
            "How long one delivery attempt took, per channel.",
            ["channel"],
            registry=registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.pending = Gauge(
            "buurtsignaal_notification_deliveries_pending",
            "Deliveries waiting for their (next) attempt, per channel.",
            ["channel"],
            registry=registry,
        )
        self.letters = Counter(
            "buurtsignaal_mayor_letters",
            "Mayor's letters by what happened: rendered, failed, delivered, expired, erased.",
            ["outcome"],
            registry=registry,
        )
        self.live_streams = Gauge(
            "buurtsignaal_live_streams",
            "Open Server-Sent Events streams of this process.",
            registry=registry,
        )
        for channel in NotificationChannel:  # every series exists from the start, at 0
            for counter in (self.sent, self.failed, self.retried, self.dead):
                counter.labels(channel.value)
