"""Rules a signal must meet before it is stored.

Each rule names the field it is about, so the API can answer with a problem
detail that points at it. Ages count in whole years on the day the signal is
registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from buurtsignaal_contracts.codes import AgeBand, Programme

# Programme -> (minimum age, maximum age exclusive): DOMAIN.md.
PROGRAMME_AGE_RANGES: dict[Programme, tuple[int, int]] = {
    Programme.EARLY_SIGNALLING: (0, 12),
    Programme.TRUANCY_TASKFORCE: (5, 18),
    Programme.INTENSIVE_YOUTH_WORK: (12, 23),
}


@dataclass(frozen=True)
class RuleViolation(Exception):
    field: str
    message: str
    code: str


def age_on(birth: date, day: date) -> int:
    had_birthday = (day.month, day.day) >= (birth.month, birth.day)
    return day.year - birth.year - (0 if had_birthday else 1)


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February becomes 1 March."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def age_band(age: int) -> AgeBand:
    if age < 5:
        return AgeBand.UNDER_5
    if age < 12:
        return AgeBand.AGE_5_TO_11
    if age < 18:
        return AgeBand.AGE_12_TO_17
    if age < 23:
        return AgeBand.AGE_18_TO_22
    return AgeBand.AGE_23_AND_OVER


def check_age_for_programme(programme: Programme | None, age: int) -> None:
    if programme is None or programme not in PROGRAMME_AGE_RANGES:
        return
    low, high = PROGRAMME_AGE_RANGES[programme]
    if not low <= age < high:
        raise RuleViolation(
            "suggested_programme",
            f"{programme.value} is for ages {low} to {high - 1}; the person is {age}",
            "age_outside_programme",
        )


def check_person_dates(birth: date, occurred_on: date, today: date, age_limit: int) -> int:
    """Validate the dates of a signal; returns the person's age today."""
    if birth > today:
        raise RuleViolation("person.date_of_birth", "lies in the future", "date_in_future")
    if occurred_on > today:
        raise RuleViolation("occurred_on", "lies in the future", "date_in_future")
    if occurred_on < birth:
        raise RuleViolation("occurred_on", "lies before the date of birth", "before_birth")
    age = age_on(birth, today)
    if age >= age_limit:
        raise RuleViolation(
            "person.date_of_birth",
            f"signals are for people under {age_limit}; the person is {age}",
            "over_age_limit",
        )
    return age
