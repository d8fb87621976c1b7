"""Where a fact goes: its local day and its team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from reporting_service.domain.measures import UNASSIGNED
from reporting_service.domain.periods import local_day
from servicekit.areas import AreaConfig


@dataclass(frozen=True)
class Placing:
    timezone: ZoneInfo
    areas: AreaConfig

    def day(self, moment: datetime) -> date:
        return local_day(moment, self.timezone)

    def team_of(self, district: str) -> str:
        if district in self.areas.district_codes:
            return self.areas.team_for_district(district)
        return UNASSIGNED
