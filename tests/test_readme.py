"""The README's event catalogue and commands stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

from servicekit.asyncapi import service_definitions
from servicekit.catalogue import render_access, render_catalogue, with_access, with_catalogue

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_the_event_catalogue_is_what_the_code_says():
    table = render_catalogue(service_definitions())
    assert with_catalogue(README, table) == README, "run ./dev contracts"


def test_the_authorisation_matrix_is_what_the_code_enforces():
    table = render_access(service_definitions())
    assert "| cases | `GET /api/v1/cases/{case_id}` | personal |" in table
    assert with_access(README, table) == README, "run ./dev contracts"


def test_ci_runs_the_test_command_of_the_readme():
    assert "./dev test" in README
    assert re.search(r"^\./dev test\b", (ROOT / ".ci/run").read_text(), re.M)
