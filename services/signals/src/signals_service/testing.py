"""Synthetic people and signals for tests of the signals service, and a probe of what
it committed to publish. Every BSN is from the test range 99999xxxx; every name
is obviously fictional.
"""

from __future__ import annotations

import functools
import json
from datetime import date, timedelta
from typing import Any

from servicekit.outbox import OUTBOX
from servicekit.testing.service import ServiceUnderTest
from signals_service.domain.bsn import is_valid_bsn


@functools.cache
def synthetic_bsns() -> tuple[str, ...]:
    """Every number of the test range 999990000-999999999 that passes the 11-test."""
    return tuple(n for n in map(str, range(999990000, 1000000000)) if is_valid_bsn(n))


def synthetic_bsn(serial: int) -> str:
    return synthetic_bsns()[serial % len(synthetic_bsns())]


async def committed_events(service: ServiceUnderTest, event_name: str) -> list[dict[str, Any]]:
    """The events of a kind the service committed (its outbox), oldest first.

    The outbox holds exactly what was committed, so counting there proves "exactly
    one" without waiting for the broker.
    """
    event_type = f"nl.buurtsignaal.signals.{event_name}.v1"
    records = await service.db[OUTBOX].find({"type": event_type}).sort("seq", 1).to_list()
    return [json.loads(r["body"]) for r in records]


def youth(
    bsn: str = "999990019", age_days: int = 10 * 365 + 40, today: date | None = None, **fields: Any
) -> dict[str, Any]:
    """A synthetic youth living in West (postcode 3117)."""
    today = today or date.today()
    person = {
        "bsn": bsn,
        "date_of_birth": (today - timedelta(days=age_days)).isoformat(),
        "postcode": "3117 AB",
        "house_number": "12",
    }
    person.update(fields)
    return person


def signal_body(
    person: dict[str, Any], today: date | None = None, **changes: Any
) -> dict[str, Any]:
    today = today or date.today()
    body = {
        "source_type": "school",
        "category": "behaviour-aggression",
        "person": person,
        "occurred_on": (today - timedelta(days=1)).isoformat(),
        "description": "Synthetisch: duwt medeleerlingen op het plein.",
    }
    body.update(changes)
    return body
