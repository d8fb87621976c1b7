import pytest

from buurtsignaal_contracts.codes import AgeBand, Category, Programme
from cases_service.domain.programme import load_programme_rules

RULES = load_programme_rules()


@pytest.mark.parametrize(
    ("category", "age_band", "suggested", "expected"),
    [
        (Category.SCHOOL_ABSENCE_ABSOLUTE, AgeBand.AGE_12_TO_17, None, Programme.TRUANCY_TASKFORCE),
        (Category.SCHOOL_ABSENCE_RELATIVE, AgeBand.AGE_5_TO_11, None, Programme.TRUANCY_TASKFORCE),
        (Category.BEHAVIOUR_AGGRESSION, AgeBand.AGE_5_TO_11, None, Programme.EARLY_SIGNALLING),
        (Category.BEHAVIOUR_VANDALISM, AgeBand.AGE_12_TO_17, None, Programme.INTENSIVE_YOUTH_WORK),
        (Category.POLICE_INCIDENT, AgeBand.AGE_18_TO_22, None, Programme.INTENSIVE_YOUTH_WORK),
        (Category.LONELINESS, AgeBand.AGE_12_TO_17, None, Programme.NEIGHBOURHOOD_TEAM),
        (
            Category.SCHOOL_ABSENCE_ABSOLUTE,
            AgeBand.AGE_18_TO_22,
            None,
            Programme.NEIGHBOURHOOD_TEAM,
        ),
        (
            Category.LONELINESS,
            AgeBand.AGE_12_TO_17,
            Programme.INTENSIVE_YOUTH_WORK,
            Programme.INTENSIVE_YOUTH_WORK,
        ),
    ],
)
def test_the_first_matching_rule_or_the_suggestion_decides(category, age_band, suggested, expected):
    assert RULES.programme_for(category, age_band, suggested) is expected
