from datetime import UTC, date, datetime

import pytest

from buurtsignaal_contracts.codes import AgeBand, Category, Programme, SourceType
from servicekit.areas import load_area_config
from servicekit.clock import FixedClock
from signals_service.app import retention_rules
from signals_service.domain.identity import PersonIdentity
from signals_service.domain.intake import add_years, age_band, age_on
from signals_service.intake import IntakeRejected, SignalIntake, Submission
from signals_service.keyring import Keyring
from signals_service.matcher import Matcher
from signals_service.persons import PersonRegistry
from signals_service.settings import SignalsSettings

TODAY = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def intake() -> SignalIntake:
    settings = SignalsSettings()
    keyring = Keyring.from_settings(settings)
    return SignalIntake(
        load_area_config(),
        keyring,
        PersonRegistry(keyring),
        Matcher(household_matching=False),
        retention_rules(settings),
        FixedClock(TODAY),
    )


def submission(age_years: int = 10, **changes) -> Submission:
    birth = date(TODAY.year - age_years, 3, 1)
    person = changes.pop(
        "person", PersonIdentity(birth, bsn="999990019", postcode="3117 AB", house_number="4")
    )
    fields = dict(
        source_type=SourceType.SCHOOL,
        category=Category.BEHAVIOUR_AGGRESSION,
        person=person,
        occurred_on=date(2026, 11, 20),
    )
    fields.update(changes)
    return Submission(**fields)


def violations(sub: Submission) -> dict[str, str]:
    with pytest.raises(IntakeRejected) as rejected:
        intake().check(sub)
    return {v.field: v.code for v in rejected.value.violations}


def test_a_good_submission_gets_its_district_from_the_postcode():
    checked = intake().check(submission())
    assert checked.district == "west" and checked.age == 10


@pytest.mark.parametrize(
    ("programme", "age", "allowed"),
    [
        (Programme.EARLY_SIGNALLING, 11, True),
        (Programme.EARLY_SIGNALLING, 12, False),
        (Programme.TRUANCY_TASKFORCE, 4, False),
        (Programme.TRUANCY_TASKFORCE, 5, True),
        (Programme.TRUANCY_TASKFORCE, 17, True),
        (Programme.TRUANCY_TASKFORCE, 18, False),
        (Programme.INTENSIVE_YOUTH_WORK, 11, False),
        (Programme.INTENSIVE_YOUTH_WORK, 12, True),
        (Programme.INTENSIVE_YOUTH_WORK, 22, True),
        (Programme.NEIGHBOURHOOD_TEAM, 7, True),
    ],
)
def test_programme_age_rules(programme, age, allowed):
    sub = submission(age, suggested_programme=programme)
    if allowed:
        intake().check(sub)
    else:
        assert violations(sub) == {"suggested_programme": "age_outside_programme"}


def test_without_bsn_name_birth_date_postcode_and_house_number_are_all_required():
    person = PersonIdentity(date(2016, 1, 1), given_name="Sam")
    found = violations(submission(person=person, district="west"))
    assert found == {
        "person.family_name": "missing",
        "person.postcode": "missing",
        "person.house_number": "missing",
    }


def test_district_rules():
    outside = PersonIdentity(
        date(2016, 1, 1), bsn="999990019", postcode="1012 AB", house_number="1"
    )
    assert intake().check(submission(person=outside)).district is None, (
        "resolved from the record, or refused"
    )
    assert intake().check(submission(person=outside, district="noord")).district == "noord"
    assert violations(submission(district="atlantis")) == {"district": "unknown_district"}
    assert violations(submission(district="oost")) == {"district": "district_mismatch"}


def test_dates_in_the_future_and_people_over_the_age_limit_are_refused():
    assert violations(submission(occurred_on=date(2026, 11, 22))) == {
        "occurred_on": "date_in_future"
    }
    assert violations(submission(age_years=23)) == {"person.date_of_birth": "over_age_limit"}


def test_ages_bands_and_anniversaries():
    assert age_on(date(2014, 11, 21), date(2026, 11, 21)) == 12
    assert age_on(date(2014, 11, 22), date(2026, 11, 21)) == 11
    assert [age_band(a) for a in (4, 5, 11, 12, 17, 18, 22, 23)] == [
        AgeBand.UNDER_5,
        AgeBand.AGE_5_TO_11,
        AgeBand.AGE_5_TO_11,
        AgeBand.AGE_12_TO_17,
        AgeBand.AGE_12_TO_17,
        AgeBand.AGE_18_TO_22,
        AgeBand.AGE_18_TO_22,
        AgeBand.AGE_23_AND_OVER,
    ]
    assert add_years(date(2024, 2, 29), 2) == date(2026, 3, 1)
