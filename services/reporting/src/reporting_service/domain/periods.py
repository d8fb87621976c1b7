"""Report periods in the report time zone (Europe/Amsterdam by default).

A fact belongs to the day on which its moment falls in the report time zone,
so a month is simply its local days: the evening of 31 March (UTC) can be
1 April in Amsterdam, and a day around a clock change is still one day.
``utc_bounds`` says which instants a period covers, for the record.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"


class PeriodError(ValueError):
    """The text does not name a period."""


PATTERNS = {
    PeriodKind.YEAR: re.compile(r"^(\d{4})$"),
    PeriodKind.QUARTER: re.compile(r"^(\d{4})-Q([1-4])$"),
    PeriodKind.MONTH: re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
}


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    first_day: date
    last_day: date
    label: str

    @property
    def year(self) -> int:
        return self.first_day.year

    def utc_bounds(self, timezone: ZoneInfo) -> tuple[datetime, datetime]:
        """The first instant of the period and the first instant after it, in UTC."""
        start = datetime.combine(self.first_day, time(0), timezone)
        end = datetime.combine(self.last_day + timedelta(days=1), time(0), timezone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def months(self) -> list[str]:
        """The months ("YYYY-MM") the period touches."""
        found, day = [], self.first_day.replace(day=1)
        while day <= self.last_day:
            found.append(month_of(day))
            day = (day + timedelta(days=32)).replace(day=1)
        return found


def parse_period(text: str) -> Period:
    """``2026`` (a year), ``2026-Q1`` (a quarter) or ``2026-03`` (a month)."""
    for kind, pattern in PATTERNS.items():
        if match := pattern.match(text):
            year = int(match.group(1))
            if kind is PeriodKind.YEAR:
                return Period(kind, date(year, 1, 1), date(year, 12, 31), text)
            if kind is PeriodKind.QUARTER:
                quarter = int(match.group(2))
                first_month = 3 * quarter - 2
                return Period(
                    kind, date(year, first_month, 1), _month_end(year, first_month + 2), text
                )
            month = int(match.group(2))
            return Period(kind, date(year, month, 1), _month_end(year, month), text)
    raise PeriodError("expected YYYY, YYYY-Qn or YYYY-MM")


def custom_period(first_day: date, last_day: date) -> Period:
    if last_day < first_day:
        raise PeriodError("the last day lies before the first")
    return Period(PeriodKind.CUSTOM, first_day, last_day, f"{first_day}..{last_day}")


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def local_day(moment: datetime, timezone: ZoneInfo) -> date:
    if moment.tzinfo is None:
        raise ValueError("moments are timezone-aware")
    return moment.astimezone(timezone).date()


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def quarter_of_month(month: str) -> str:
    year, number = month.split("-")
    return f"{year}-Q{(int(number) - 1) // 3 + 1}"


def year_tree(year: int) -> dict[str, list[str]]:
    """Months within quarters within the year: the rows of a year's public table."""
    quarters = {
        f"{year}-Q{q}": [f"{year}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]
        for q in range(1, 5)
    }
    return {str(year): list(quarters), **quarters}
