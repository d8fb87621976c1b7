"""Deadlines in working days, and when a breach must be told to whom.

Working days are Monday to Friday without the Dutch public holidays of the
maintained ``holidays`` package (pinned in constraints.txt; its Dutch calendar
includes Good Friday, King's Day, Liberation Day in lustrum years, Ascension,
Whit Monday and both Christmas days). No hand-written list of dates.

A deadline of N working days that starts on day S is due on the N-th working
day after S (S itself does not count). It is breached when its due day has
ended (Europe/Amsterdam) without it being met: the worker is told then. The
area manager is told when ceil(N x multiple) working days after S have ended,
the multiple being configurable. Each is told exactly once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from buurtsignaal_contracts.codes import DeadlineKind, Escalation, Programme

# Deadlines that count from the case's first signal; the letter deadlines
# count from the request and from the delivery of the letter.
FROM_FIRST_SIGNAL = (
    DeadlineKind.FIRST_CONTACT,
    DeadlineKind.SCREENING,
    DeadlineKind.TRUANCY_INVESTIGATION,
)


class WorkingDays:
    """The Dutch working-day calendar."""

    def __init__(self, country: str = "NL") -> None:
        self._holidays = holidays.country_holidays(country)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays

    def add(self, start: date, count: int) -> date:
        """The ``count``-th working day after ``start`` (``start`` itself not counted)."""
        if count < 0:
            raise ValueError("count must not be negative")
        day = start
        while count > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def holiday_name(self, day: date) -> str | None:
        return self._holidays.get(day)


class DeadlinePolicy(BaseModel):
    """What ``config/deadlines.yaml`` says: which deadlines each programme has, how long."""

    model_config = ConfigDict(frozen=True)

    timezone: str = "Europe/Amsterdam"
    area_manager_multiple: float = Field(
        2.0, ge=1.0, description="the area manager is told at this multiple of the working days"
    )
    programmes: dict[Programme, dict[DeadlineKind, int]]

    @field_validator("programmes")
    @classmethod
    def _positive(
        cls, value: dict[Programme, dict[DeadlineKind, int]]
    ) -> dict[Programme, dict[DeadlineKind, int]]:
        for programme, kinds in value.items():
            for kind, days in kinds.items():
                if days < 1:
                    raise ValueError(f"{programme} {kind}: working days must be at least 1")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)
        return value

    def working_days(self, programme: Programme, kind: DeadlineKind) -> int | None:
        return self.programmes.get(programme, {}).get(kind)


@dataclass
class DeadlineRules:
    """The policy with the calendar: computes due days and the local date."""

    policy: DeadlinePolicy
    calendar: WorkingDays = field(default_factory=WorkingDays)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.policy.timezone)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def start(self, programme: Programme, kind: DeadlineKind, starts_on: date) -> Deadline | None:
        """A new deadline of this kind, or None when the programme has none."""
        days = self.policy.working_days(programme, kind)
        if days is None:
            return None
        escalation_days = math.ceil(days * self.policy.area_manager_multiple)
        return Deadline(
            kind=kind,
            starts_on=starts_on,
            working_days=days,
            due_on=self.calendar.add(starts_on, days),
            escalates_on=self.calendar.add(starts_on, escalation_days),
        )


@dataclass
class Deadline:
    kind: DeadlineKind
    starts_on: date
    working_days: int
    due_on: date
    escalates_on: date
    met_on: date | None = None
    cancelled_on: date | None = None
    worker_told_at: datetime | None = None
    area_manager_told_at: datetime | None = None

    @property
    def pending(self) -> bool:
        return self.met_on is None and self.cancelled_on is None

    def overdue(self, today: date) -> bool:
        return self.pending and today > self.due_on

    @property
    def met_late(self) -> bool:
        return self.met_on is not None and self.met_on > self.due_on

    def escalations_due(self, today: date) -> list[Escalation]:
        """Who must be told today and has not been told yet."""
        if not self.pending:
            return []
        due = []
        if today > self.due_on and self.worker_told_at is None:
            due.append(Escalation.WORKER)
        if today > self.escalates_on and self.area_manager_told_at is None:
            due.append(Escalation.AREA_MANAGER)
        return due

    def next_alert_on(self) -> date | None:
        """The last day before an untold breach becomes due (it is due the day after)."""
        if not self.pending:
            return None
        if self.worker_told_at is None:
            return self.due_on
        if self.area_manager_told_at is None:
            return self.escalates_on
        return None

    def mark_told(self, escalation: Escalation, now: datetime) -> None:
        if escalation is Escalation.WORKER:
            self.worker_told_at = now
        else:
            self.area_manager_told_at = now


def load_deadline_policy(path: Path | None = None) -> DeadlinePolicy:
    if path is None:
        text = resources.files("cases_service").joinpath("config/deadlines.yaml").read_text()
    else:
        text = path.read_text()
    return DeadlinePolicy.model_validate(yaml.safe_load(text))
