"""Choosing the programme of a signal's case, from configurable rules."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from buurtsignaal_contracts.codes import AgeBand, Category, Programme


class ProgrammeRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    programme: Programme
    categories: frozenset[Category]
    age_bands: frozenset[AgeBand]


class ProgrammeRules(BaseModel):
    model_config = ConfigDict(frozen=True)

    take_suggested_programme: bool = True
    rules: list[ProgrammeRule]
    default: Programme

    def programme_for(
        self, category: Category, age_band: AgeBand, suggested: Programme | None
    ) -> Programme:
        if suggested is not None and self.take_suggested_programme:
            return suggested
        for rule in self.rules:
            if category in rule.categories and age_band in rule.age_bands:
                return rule.programme
        return self.default


def load_programme_rules(path: Path | None = None) -> ProgrammeRules:
    if path is None:
        text = resources.files("cases_service").joinpath("config/programme_rules.yaml").read_text()
    else:
        text = path.read_text()
    return ProgrammeRules.model_validate(yaml.safe_load(text))
