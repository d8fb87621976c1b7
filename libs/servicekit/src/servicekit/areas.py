"""The municipality's areas: districts, postcodes, teams and area managers.

This is configuration, not code (DOMAIN.md): the default file describes
Schiedam; ``AREA_CONFIG_FILE`` points a service at another one. The postcode
table here is illustrative; the municipality maintains the real one.
"""

from __future__ import annotations

import re
from functools import cached_property
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

CODE = r"^[a-z0-9][a-z0-9-]{0,62}$"


class District(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(pattern=CODE)
    name: str
    team: str = Field(pattern=CODE)
    postcodes: list[str] = Field(default_factory=list, description="4-digit postcode areas")


class Team(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(pattern=CODE)
    name: str
    area_manager: str


class AreaConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    municipality: str
    districts: list[District]
    teams: list[Team]

    @model_validator(mode="after")
    def _consistent(self) -> AreaConfig:
        team_codes = {t.code for t in self.teams}
        for district in self.districts:
            if district.team not in team_codes:
                raise ValueError(f"district {district.code}: unknown team {district.team}")
        seen: dict[str, str] = {}
        for district in self.districts:
            for postcode in district.postcodes:
                if postcode in seen:
                    raise ValueError(f"postcode {postcode} in {seen[postcode]} and {district.code}")
                seen[postcode] = district.code
        return self

    @cached_property
    def district_codes(self) -> frozenset[str]:
        return frozenset(d.code for d in self.districts)

    @cached_property
    def _by_postcode(self) -> dict[str, str]:
        return {p: d.code for d in self.districts for p in d.postcodes}

    def district_for_postcode(self, postcode: str) -> str | None:
        """The district of a Dutch postcode ("3117 AB"), by its four digits."""
        match = re.match(r"^\s*(\d{4})", postcode)
        return self._by_postcode.get(match.group(1)) if match else None

    def team_for_district(self, district: str) -> str:
        return next(d.team for d in self.districts if d.code == district)

    def team(self, code: str) -> Team:
        return next(t for t in self.teams if t.code == code)

    def teams_managed_by(self, area_manager: str) -> frozenset[str]:
        return frozenset(t.code for t in self.teams if t.area_manager == area_manager)


def load_area_config(path: Path | None = None) -> AreaConfig:
    if path is None:
        text = resources.files("servicekit").joinpath("config/schiedam.yaml").read_text()
    else:
        text = path.read_text()
    return AreaConfig.model_validate(yaml.safe_load(text))
