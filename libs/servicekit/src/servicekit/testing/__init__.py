"""Helpers for the tests of every package: real brokers, real databases, tokens."""

from servicekit.testing.helpers import (
    PRODUCTION_CONNECTIONS,
    eventually,
    metric_value,
    queue_depth,
    token_for,
)

__all__ = ["PRODUCTION_CONNECTIONS", "eventually", "metric_value", "queue_depth", "token_for"]
