"""Prometheus metrics of a service, on its own registry.

FastStream's middleware measures every handler (rate, errors, duration);
these add what FastStream cannot see: the outbox, the dead letters, retries,
duplicates and HTTP requests. Labels stay low-cardinality: event types and
route templates, never ids.
"""

from __future__ import annotations

from faststream.rabbit.prometheus import RabbitPrometheusMiddleware
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ServiceMetrics:
    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.outbox_backlog = Gauge(
            "buurtsignaal_outbox_backlog",
            "Outbox records committed but not yet confirmed by the broker.",
            registry=r,
        )
        self.dead_letters = Gauge(
            "buurtsignaal_dead_letter_messages",
            "Messages waiting in this service's dead-letter queue.",
            ["queue"],
            registry=r,
        )
        self.events_published = Counter(
            "buurtsignaal_events_published",
            "Events published from the outbox and confirmed by the broker.",
            ["event_type"],
            registry=r,
        )
        self.handler_retries = Counter(
            "buurtsignaal_event_handler_retries",
            "Handler failures that sent an event back to the queue.",
            ["event_type"],
            registry=r,
        )
        self.dead_lettered = Counter(
            "buurtsignaal_events_dead_lettered",
            "Messages this service sent to its dead-letter queue, by why "
            "(delivery-limit: failed on every delivery; permanent-failure: can never succeed).",
            ["event_type", "reason"],
            registry=r,
        )
        self.duplicates_ignored = Counter(
            "buurtsignaal_events_duplicate_ignored",
            "Redelivered events that the inbox recognised and ignored.",
            ["event_type"],
            registry=r,
        )
        self.held_for_database = Gauge(
            "buurtsignaal_consumer_held_for_database",
            "Messages a consumer holds right now: the database is unreachable or their "
            "writes conflict with a transaction left open.",
            registry=r,
        )
        self.database_holds = Counter(
            "buurtsignaal_consumer_database_holds",
            "Times a consumer held a message instead of failing it, by reason "
            "(unreachable, conflict) and outcome (tried-again, patience-exhausted).",
            ["reason", "outcome"],
            registry=r,
        )
        self.transaction_retries = Counter(
            "buurtsignaal_transaction_retries",
            "Transactions run again after a write conflict or a transient error.",
            ["reason"],
            registry=r,
        )
        self.http_requests = Counter(
            "buurtsignaal_http_requests",
            "HTTP requests by route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_duration = Histogram(
            "buurtsignaal_http_request_duration_seconds",
            "HTTP request duration by route template.",
            ["method", "route"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

    def faststream_middleware(self) -> RabbitPrometheusMiddleware:
        return RabbitPrometheusMiddleware(
            registry=self.registry,
            app_name=self.service,
            metrics_prefix="faststream",
            # One queue per service, so FastStream's "handler" label is the
            # queue; the event type tells the handlers on it apart.
            custom_labels={"event_type": _event_type_of},
        )


def _event_type_of(message: object) -> str:
    return str(getattr(message, "type", None) or "none")
