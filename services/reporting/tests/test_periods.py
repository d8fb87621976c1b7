"""Periods in Europe/Amsterdam days, around the clock changes and year ends."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from reporting_service.domain.periods import (
    PeriodError,
    PeriodKind,
    custom_period,
    local_day,
    parse_period,
)

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize(
    ("text", "kind", "first", "last"),
    [
        ("2026", PeriodKind.YEAR, date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-Q1", PeriodKind.QUARTER, date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-Q4", PeriodKind.QUARTER, date(2026, 10, 1), date(2026, 12, 31)),
        ("2028-02", PeriodKind.MONTH, date(2028, 2, 1), date(2028, 2, 29)),
    ],
)
def test_periods_are_calendar_periods(text, kind, first, last):
    period = parse_period(text)
    assert (period.kind, period.first_day, period.last_day, period.label) == (
        kind,
        first,
        last,
        text,
    )


@pytest.mark.parametrize("text", ["26", "2026-13", "2026-Q5", "2026-3", "march", ""])
def test_other_text_is_no_period(text):
    with pytest.raises(PeriodError):
        parse_period(text)


def test_a_custom_range_must_not_run_backwards():
    assert custom_period(date(2026, 1, 5), date(2026, 1, 5)).label == "2026-01-05..2026-01-05"
    with pytest.raises(PeriodError):
        custom_period(date(2026, 1, 5), date(2026, 1, 4))


def test_march_2026_ends_in_summer_time_and_october_in_winter_time():
    # Summer time starts 29 March 2026 01:00 UTC and ends 25 October 2026 01:00 UTC.
    march = parse_period("2026-03").utc_bounds(AMS)
    assert march == (datetime(2026, 2, 28, 23, tzinfo=UTC), datetime(2026, 3, 31, 22, tzinfo=UTC))
    october = parse_period("2026-10").utc_bounds(AMS)
    assert october == (
        datetime(2026, 9, 30, 22, tzinfo=UTC),
        datetime(2026, 10, 31, 23, tzinfo=UTC),
    )
    q1, q2 = parse_period("2026-Q1").utc_bounds(AMS), parse_period("2026-Q2").utc_bounds(AMS)
    assert q1[1] == q2[0] == datetime(2026, 3, 31, 22, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2026, 3, 31, 21, 59, tzinfo=UTC), date(2026, 3, 31)),  # 23:59 CEST, Q1
        (datetime(2026, 3, 31, 22, 0, tzinfo=UTC), date(2026, 4, 1)),  # 00:00 CEST, Q2
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), date(2026, 10, 25)),  # 02:30 CEST, before
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), date(2026, 10, 25)),  # 02:30 CET, after
        (datetime(2026, 10, 31, 22, 59, tzinfo=UTC), date(2026, 10, 31)),  # 23:59 CET
        (datetime(2026, 10, 31, 23, 0, tzinfo=UTC), date(2026, 11, 1)),
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), date(2027, 1, 1)),  # new year in Amsterdam
    ],
)
def test_a_moment_counts_on_its_amsterdam_day(moment, day):
    assert local_day(moment, AMS) == day
