"""The timeline of a case: its signals, what happened to it, and its contacts, in order.

Entries are ordered by the day they happened (a contact's own date, a letter's
delivery date), then by the moment they were recorded: a contact recorded on
Friday about Tuesday's home visit appears on Tuesday.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cases_service.domain.case import Case, Contact
from cases_service.domain.deadlines import DeadlineRules


@dataclass(frozen=True)
class TimelineEntry:
    on: date
    at: datetime
    kind: str
    by: str | None
    details: dict[str, Any] = field(default_factory=dict)


def timeline(case: Case, contacts: list[Contact], rules: DeadlineRules) -> list[TimelineEntry]:
    entries = [
        TimelineEntry(
            on=rules.local_date(s.received_at),
            at=s.received_at,
            kind="signal",
            by=None,
            details={
                "signal_id": str(s.signal_id),
                "source_type": s.source_type.value,
                "reporting_org": s.reporting_org,
                "category": s.category.value,
                "state": s.state,
            },
        )
        for s in case.signals
    ]
    entries += [
        TimelineEntry(
            on=h.on or rules.local_date(h.at), at=h.at, kind=h.kind, by=h.by, details=h.details
        )
        for h in case.history
    ]
    entries += [
        TimelineEntry(
            on=c.contact_date,
            at=c.recorded_at,
            kind="contact",
            by=c.worker,
            details={
                "contact_id": str(c.id),
                "kind": c.kind.value,
                "reached": c.reached,
                "part_of_day": c.part_of_day.value,
                "minutes": c.minutes,
            },
        )
        for c in contacts
    ]
    return sorted(entries, key=lambda e: (e.on, e.at))
