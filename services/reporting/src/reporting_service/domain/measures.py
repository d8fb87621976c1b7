"""What reporting counts, named once.

Every counted event becomes one or more *facts*: a measure, the local day, the
dimensions (district, programme, source, team), optionally a code that breaks
the measure down (an outcome, a contact kind...) and a value (1 for a count,
minutes for contact minutes, days for a lead time, +1/-1 for open cases).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from buurtsignaal_contracts.codes import (
    CaseOutcome,
    ContactKind,
    DeadlineKind,
    LetterAnswer,
    Programme,
    ScreeningOutcome,
    SourceType,
)

UNASSIGNED = "unassigned"
DIMENSIONS = ("district", "programme", "source", "team")


class Dimension(StrEnum):
    DISTRICT = "district"
    PROGRAMME = "programme"
    SOURCE = "source"
    TEAM = "team"


class Kind(StrEnum):
    COUNT = "count"  # facts of value 1
    SUM = "sum"  # facts carry an amount (minutes)
    STOCK = "stock"  # +1/-1 facts, summed from the beginning up to a day
    DISTINCT = "distinct"  # distinct persons over the facts of another measure


@dataclass(frozen=True)
class Measure:
    name: str
    meaning: str
    kind: Kind = Kind.COUNT
    breakdown: str | None = None  # the name of the code that breaks it down
    codes: tuple[str, ...] = ()
    public: bool = True
    source_measure: str | None = None  # for DISTINCT and STOCK: which facts


def _codes(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(e.value for e in enum)


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in [
        Measure("signals", "signals received", breakdown="category"),
        Measure(
            "persons_signalled",
            "distinct persons about whom a signal was received",
            Kind.DISTINCT,
            source_measure="signals",
        ),
        Measure("matches", "matches: two or more organisations signal the same person"),
        Measure("signals_withdrawn", "signals withdrawn", breakdown="reason", public=False),
        Measure("signals_expired", "signals archived at their retention limit", public=False),
        Measure("cases_opened", "cases opened"),
        Measure(
            "cases_closed",
            "cases closed, by outcome",
            breakdown="outcome",
            codes=_codes(CaseOutcome),
        ),
        Measure("cases_reopened", "closed cases reopened", breakdown="reason", public=False),
        Measure(
            "open_cases",
            "cases open at the end of the period",
            Kind.STOCK,
            source_measure="open_delta",
        ),
        Measure("assignments", "workers assigned to cases", public=False),
        Measure("status_changes", "case status changes", breakdown="status", public=False),
        Measure(
            "screenings",
            "screenings completed, by outcome",
            breakdown="outcome",
            codes=_codes(ScreeningOutcome),
        ),
        Measure("letters_requested", "mayor's letters requested"),
        Measure("letters_delivered", "mayor's letters delivered", breakdown="method"),
        Measure(
            "letter_answers",
            "answers to the mayor's letter",
            breakdown="answer",
            codes=_codes(LetterAnswer),
        ),
        Measure("contacts", "contact attempts", breakdown="kind", codes=_codes(ContactKind)),
        Measure(
            "contacts_reached",
            "contacts in which the person or family was reached",
            breakdown="kind",
            public=False,
        ),
        Measure(
            "persons_reached",
            "distinct persons reached by a contact",
            Kind.DISTINCT,
            source_measure="contacts_reached",
        ),
        Measure(
            "contact_minutes",
            "minutes of contact (work-plan hours)",
            Kind.SUM,
            breakdown="kind",
            public=False,
        ),
        Measure(
            "deadline_breaches",
            "deadlines breached",
            breakdown="deadline",
            codes=_codes(DeadlineKind),
        ),
        Measure(
            "breaches_escalated",
            "breaches escalated to the area manager",
            breakdown="deadline",
            public=False,
        ),
        Measure(
            "notifications", "notifications sent, by channel", breakdown="channel", public=False
        ),
    ]
}

# Facts that are not reported as measures of their own.
OPEN_DELTA = "open_delta"


class Stage(StrEnum):
    """Lead times, from the first signal of a case, in whole local days."""

    FIRST_CONTACT = "first-contact"
    SCREENING = "screening"
    CLOSURE = "closure"


LEAD_TIME = {stage: f"lead_{stage.value.replace('-', '_')}" for stage in Stage}
LEAD_TIME_BUCKETS = (1, 2, 5, 10, 20, 40, 80, 160)  # days, upper bounds (inclusive)


def counted_measures() -> list[str]:
    return [m.name for m in MEASURES.values() if m.kind in (Kind.COUNT, Kind.SUM)]


def known_categories(dimension: str, districts: list[str], teams: list[str]) -> list[str]:
    """Every category a table shows, even when nothing was counted for it: a
    missing row would say "zero" as plainly as a printed one."""
    if dimension == Dimension.DISTRICT:
        return [*districts, UNASSIGNED]
    if dimension == Dimension.TEAM:
        return [*teams, UNASSIGNED]
    if dimension == Dimension.PROGRAMME:
        return [*_codes(Programme), UNASSIGNED]
    return list(_codes(SourceType))


def percentile(sorted_values: list[int], fraction: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, -(-int(fraction * 1000) * len(sorted_values) // 1000))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])
