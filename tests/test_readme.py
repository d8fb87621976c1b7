"""The README's event catalogue and commands stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

from buurtsignaal_contracts import all_events
from servicekit.asyncapi import consumers_by_routing_key, service_definitions

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
ROW = re.compile(r"^\| `(?P<key>[a-z.-]+\.v\d+)` \| (?P<consumers>[^|]+) \|", re.M)


def test_the_catalogue_lists_every_event_with_its_consumers():
    rows = {m["key"]: m["consumers"].strip() for m in ROW.finditer(README)}
    consumers = consumers_by_routing_key(service_definitions())
    assert set(rows) == {m.routing_key() for m in all_events()}
    for key, listed in rows.items():
        actual = sorted(service for service, _ in consumers.get(key, []))
        assert sorted(c.strip() for c in listed.split(",") if c.strip() != "—") == actual, key


def test_ci_runs_the_test_command_of_the_readme():
    assert "./dev test" in README
    assert re.search(r"^\./dev test\b", (ROOT / ".ci/run").read_text(), re.M)
