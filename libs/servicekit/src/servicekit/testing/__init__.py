"""Helpers for the tests of every package: real brokers, real databases, tokens."""

from servicekit.testing.helpers import eventually, token_for

__all__ = ["eventually", "token_for"]
