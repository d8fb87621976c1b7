"""Screening instruments are data: loading them, validating answers, scoring."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from buurtsignaal_contracts.codes import ScreeningOutcome
from cases_service.domain.refusals import InvalidStep
from cases_service.domain.screening import load_instruments

CATALOGUE = load_instruments()
V1 = CATALOGUE.get("social-learnability", "1.0")
WANTED = [q.id for q in V1.questions if q.scale == "wanted-behaviour"]
UNWANTED = [q.id for q in V1.questions if q.scale == "unwanted-behaviour"]
PACKAGED = Path(__file__).resolve().parents[1] / "src/cases_service/config/screening"


def answers(wanted: str, unwanted: str) -> dict[str, str]:
    return {**dict.fromkeys(WANTED, wanted), **dict.fromkeys(UNWANTED, unwanted)}


@pytest.mark.parametrize(
    ("given_answers", "score", "outcome"),
    [
        (answers("always", "never"), 0, ScreeningOutcome.NO_FURTHER_ACTION),
        (answers("often", "never"), 7, ScreeningOutcome.NO_FURTHER_ACTION),
        (answers("often", "sometimes"), 10, ScreeningOutcome.START_TRAJECTORY),
        (answers("sometimes", "often"), 20, ScreeningOutcome.START_TRAJECTORY),
        (answers("never", "never"), 21, ScreeningOutcome.REFER_TO_CARE),
        (answers("never", "always"), 30, ScreeningOutcome.REFER_TO_CARE),
    ],
)
def test_answers_score_against_the_definition(given_answers, score, outcome):
    scored = V1.score(given_answers)
    assert (scored.instrument, scored.version) == ("social-learnability", "1.0")
    assert (scored.score, scored.outcome) == (score, outcome)


def test_every_problem_with_the_answers_is_named_by_its_question():
    given_answers = answers("always", "never")
    del given_answers["keeps-agreements"]
    given_answers["shows-remorse"] = "quite"
    given_answers["favourite-colour"] = "blue"
    with pytest.raises(InvalidStep) as refused:
        V1.score(given_answers)
    found = {(p.field, p.code) for p in refused.value.problems}
    assert found == {
        ("answers.keeps-agreements", "missing"),
        ("answers.shows-remorse", "enum"),
        ("answers.favourite-colour", "unknown"),
    }
    assert "quite" not in refused.value.message, "answers are not echoed"


@given(
    st.lists(st.sampled_from(["always", "often", "sometimes", "never"]), min_size=10, max_size=10)
)
def test_any_complete_set_of_answers_has_one_outcome(choices):
    given_answers = {q.id: c for q, c in zip(V1.questions, choices, strict=True)}
    scored = V1.score(given_answers)
    assert V1.lowest_score <= scored.score <= V1.highest_score
    bands = [b for b in V1.outcomes if b.min_score <= scored.score <= b.max_score]
    assert [b.outcome for b in bands] == [scored.outcome]


def test_a_new_version_is_a_new_file_and_the_old_one_stays(tmp_path):
    definition = yaml.safe_load((PACKAGED / "social-learnability-1.0.yaml").read_text())
    (tmp_path / "social-learnability-1.0.yaml").write_text(yaml.safe_dump(definition))
    definition["version"] = "1.1"
    definition["questions"] = definition["questions"][:4]
    definition["outcomes"] = [
        {"min_score": 0, "max_score": 3, "outcome": "no-further-action"},
        {"min_score": 4, "max_score": 12, "outcome": "start-trajectory"},
    ]
    (tmp_path / "social-learnability-1.1.yaml").write_text(yaml.safe_dump(definition))
    catalogue = load_instruments(tmp_path)
    assert catalogue.versions("social-learnability") == ["1.0", "1.1"]
    newer = catalogue.get("social-learnability", "1.1")
    four = {q.id: "sometimes" for q in newer.questions}
    assert newer.score(four).score == 8
    with pytest.raises(InvalidStep):
        catalogue.get("social-learnability", "1.0").score(four)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda d: d["outcomes"].pop(), "reach the highest score"),
        (lambda d: d["outcomes"][1].update(min_score=9), "without gaps or overlaps"),
        (lambda d: d["questions"][0].update(scale="colours"), "unknown scale"),
        (lambda d: d["questions"].append(dict(d["questions"][0])), "unique"),
        (lambda d: d.update(version="one"), "version"),
    ],
    ids=["band-short", "band-gap", "unknown-scale", "duplicate-question", "bad-version"],
)
def test_a_broken_definition_stops_the_service_from_starting(tmp_path, change, complaint):
    definition = yaml.safe_load((PACKAGED / "social-learnability-1.0.yaml").read_text())
    change(definition)
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(definition))
    with pytest.raises(ValueError, match=complaint) as refused:
        load_instruments(tmp_path)
    assert "broken.yaml" in str(refused.value)
