"""Working days with the Dutch public holidays of the maintained `holidays` package."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cases_service.domain.deadlines import DeadlinePolicy, WorkingDays, load_deadline_policy

DAYS = WorkingDays()


@pytest.mark.parametrize(
    ("start", "count", "due", "without_holidays"),
    [
        # Easter 2027: Good Friday 26 March and Easter Monday 29 March are skipped.
        (date(2027, 3, 25), 5, date(2027, 4, 5), date(2027, 4, 1)),
        # King's Day, Tuesday 27 April 2027.
        (date(2027, 4, 23), 5, date(2027, 5, 3), date(2027, 4, 30)),
        (date(2027, 4, 26), 1, date(2027, 4, 28), date(2027, 4, 27)),
        # Christmas 2026 (Friday 25, Saturday 26 December) and New Year's Day 2027 (a Friday).
        (date(2026, 12, 24), 5, date(2027, 1, 4), date(2026, 12, 31)),
        (date(2026, 12, 23), 1, date(2026, 12, 24), date(2026, 12, 24)),
        (date(2026, 12, 24), 1, date(2026, 12, 28), date(2026, 12, 25)),
    ],
    ids=["easter", "kings-day-week", "kings-day", "christmas-new-year", "christmas-eve", "boxing"],
)
def test_deadlines_skip_weekends_and_dutch_public_holidays(start, count, due, without_holidays):
    assert DAYS.add(start, count) == due
    weekdays_only = start
    for _ in range(count):
        weekdays_only += timedelta(days=1)
        while weekdays_only.weekday() >= 5:
            weekdays_only += timedelta(days=1)
    assert weekdays_only == without_holidays, "the example would not test the holidays"
    assert (due == without_holidays) == (start == date(2026, 12, 23))


def test_the_calendar_comes_from_the_library_not_from_a_list():
    assert DAYS.holiday_name(date(2027, 4, 27)) == "King's Day"
    assert DAYS.holiday_name(date(2026, 4, 27)) == "King's Day"  # a Monday that year
    assert DAYS.holiday_name(date(2027, 5, 6)) == "Ascension Day"
    assert DAYS.holiday_name(date(2030, 5, 6)) is None
    # Liberation Day is a public holiday in lustrum years only.
    assert DAYS.holiday_name(date(2030, 5, 5)) == "Liberation Day"
    assert DAYS.holiday_name(date(2027, 5, 5)) is None


def test_a_deadline_counts_from_the_next_working_day():
    saturday = date(2027, 1, 9)
    assert DAYS.add(saturday, 1) == date(2027, 1, 11)
    assert DAYS.add(saturday, 0) == saturday


@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2035, 12, 31)),
    count=st.integers(min_value=1, max_value=40),
)
def test_the_due_day_is_the_nth_working_day_after_the_start(start, count):
    due = DAYS.add(start, count)
    assert DAYS.is_working_day(due)
    between = [start + timedelta(days=i) for i in range(1, (due - start).days + 1)]
    assert sum(DAYS.is_working_day(d) for d in between) == count


def test_the_packaged_policy_names_the_deadlines_per_programme():
    policy = load_deadline_policy()
    assert policy.working_days("intensive-youth-work", "letter-delivered") == 10
    assert policy.working_days("intensive-youth-work", "letter-answer") == 10
    assert policy.working_days("truancy-taskforce", "truancy-investigation") == 5
    assert policy.working_days("early-signalling", "screening") == 15
    assert policy.working_days("neighbourhood-team", "letter-delivered") is None
    assert policy.area_manager_multiple == 2.0


def test_a_policy_with_nonsense_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        DeadlinePolicy.model_validate({"programmes": {"citytrainers": {"first-contact": 0}}})
    with pytest.raises(ValueError):
        DeadlinePolicy.model_validate({"area_manager_multiple": 0.5, "programmes": {}})
    with pytest.raises(ValueError):
        DeadlinePolicy.model_validate({"programmes": {"citytrainers": {"lunch": 3}}})
