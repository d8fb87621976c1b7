"""Screening of social learnability: questionnaires are data, this is how they are scored.

An instrument is a YAML file (``config/screening/<instrument>-<version>.yaml``,
or the directory in ``SCREENING_INSTRUMENTS_DIR``) with its name, version,
answer scales, questions and outcome bands. A new version is a new file; a
completed screening keeps the name and version it was scored with, so older
screenings stay explainable after the questionnaire changes.

Scoring: each answer's score (from its scale) is added up; the score falls in
exactly one outcome band (checked when the file is loaded).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from buurtsignaal_contracts.codes import ScreeningOutcome
from cases_service.domain.refusals import FieldProblem, InvalidStep

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
VersionText = Annotated[str, StringConstraints(pattern=r"^[0-9]+(\.[0-9]+){0,2}$")]


class AnswerOption(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    value: Slug
    label: str = Field(min_length=1)
    score: int = Field(ge=0)


class Question(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Slug
    text: str = Field(min_length=1)
    scale: Slug


class OutcomeBand(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_score: int = Field(ge=0)
    max_score: int = Field(ge=0)
    outcome: ScreeningOutcome


class Instrument(BaseModel):
    """One version of a questionnaire, as its data file defines it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instrument: Slug
    version: VersionText
    title: str = Field(min_length=1)
    description: str = ""
    scales: dict[Slug, list[AnswerOption]]
    questions: list[Question] = Field(min_length=1)
    outcomes: list[OutcomeBand] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        for name, options in self.scales.items():
            values = [o.value for o in options]
            if len(options) < 2 or len(set(values)) != len(values):
                raise ValueError(f"scale {name}: two or more options with distinct values")
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError("question ids must be unique")
        for question in self.questions:
            if question.scale not in self.scales:
                raise ValueError(f"question {question.id}: unknown scale {question.scale}")
        self._check_bands_cover_every_score()
        return self

    def _check_bands_cover_every_score(self) -> None:
        bands = sorted(self.outcomes, key=lambda b: b.min_score)
        expected = self.lowest_score
        for band in bands:
            if band.min_score != expected or band.max_score < band.min_score:
                raise ValueError(
                    f"outcome bands must cover every score from {self.lowest_score} to "
                    f"{self.highest_score} without gaps or overlaps (problem at {band.min_score})"
                )
            expected = band.max_score + 1
        if expected != self.highest_score + 1:
            raise ValueError(f"outcome bands must reach the highest score {self.highest_score}")

    @property
    def lowest_score(self) -> int:
        return sum(min(o.score for o in self.scales[q.scale]) for q in self.questions)

    @property
    def highest_score(self) -> int:
        return sum(max(o.score for o in self.scales[q.scale]) for q in self.questions)

    @property
    def key(self) -> tuple[str, str]:
        return self.instrument, self.version

    def score(self, answers: Mapping[str, str]) -> ScoredScreening:
        """Validate the answers against this definition and score them.

        Every problem is reported at once, each naming its question
        (``answers.<question id>``); the answers themselves are not echoed.
        """
        problems: list[FieldProblem] = []
        known = {q.id for q in self.questions}
        for question_id in sorted(set(answers) - known):
            problems.append(
                FieldProblem(
                    f"answers.{question_id}", "not a question of this instrument", "unknown"
                )
            )
        total = 0
        for question in self.questions:
            field = f"answers.{question.id}"
            if question.id not in answers:
                problems.append(FieldProblem(field, "this question is not answered", "missing"))
                continue
            options = {o.value: o.score for o in self.scales[question.scale]}
            chosen = answers[question.id]
            if chosen not in options:
                allowed = ", ".join(options)
                problems.append(
                    FieldProblem(
                        field, f"not an answer to this question; one of: {allowed}", "enum"
                    )
                )
                continue
            total += options[chosen]
        if problems:
            raise InvalidStep.of(problems)
        return ScoredScreening(self.instrument, self.version, total, self.outcome_for(total))

    def outcome_for(self, score: int) -> ScreeningOutcome:
        return next(b.outcome for b in self.outcomes if b.min_score <= score <= b.max_score)


@dataclass(frozen=True)
class ScoredScreening:
    instrument: str
    version: str
    score: int
    outcome: ScreeningOutcome


class UnknownInstrument(Exception):
    pass


@dataclass(frozen=True)
class InstrumentCatalogue:
    """Every instrument version the service knows."""

    instruments: tuple[Instrument, ...]

    @cached_property
    def _by_key(self) -> dict[tuple[str, str], Instrument]:
        return {i.key: i for i in self.instruments}

    def get(self, instrument: str, version: str) -> Instrument:
        try:
            return self._by_key[(instrument, version)]
        except KeyError:
            raise UnknownInstrument(f"{instrument} {version}") from None

    def versions(self, instrument: str) -> list[str]:
        return sorted(
            (i.version for i in self.instruments if i.instrument == instrument),
            key=lambda v: tuple(int(p) for p in v.split(".")),
        )


def load_instruments(directory: Path | None = None) -> InstrumentCatalogue:
    """Read every ``*.yaml`` of the directory (the packaged one by default)."""
    if directory is None:
        root = resources.files("cases_service").joinpath("config/screening")
        texts = {f.name: f.read_text() for f in root.iterdir() if f.name.endswith(".yaml")}
    else:
        texts = {p.name: p.read_text() for p in directory.glob("*.yaml")}
    instruments = []
    for name in sorted(texts):
        try:
            instrument = Instrument.model_validate(yaml.safe_load(texts[name]))
        except ValueError as error:
            raise ValueError(f"screening instrument {name}: {error}") from error
        instruments.append(instrument)
    keys = [i.key for i in instruments]
    if len(set(keys)) != len(keys):
        raise ValueError("two screening files define the same instrument version")
    if not instruments:
        raise ValueError("no screening instruments found")
    return InstrumentCatalogue(tuple(instruments))
