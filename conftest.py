"""Fixtures for every test in the repository (real broker, real database)."""

pytest_plugins = ["servicekit.testing.fixtures"]
