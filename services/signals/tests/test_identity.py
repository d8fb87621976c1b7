"""Recognising people again when reports disagree."""

from __future__ import annotations

import pytest

from servicekit.testing import token_for
from signals_service.testing import signal_body, synthetic_bsn, youth

pytestmark = pytest.mark.integration

SCHOOL = token_for("r-school", "reporter", org="obs-de-singel")
NAMED = {"given_name": "Sam", "family_name": "Voorbeeld"}


async def person_of(service, person: dict) -> str:
    response = await service.client.post(
        "/api/v1/signals", json=signal_body(person), headers=SCHOOL
    )
    assert response.status_code == 201, response.text
    return response.json()["person"]


async def test_name_and_address_with_another_bsn_on_record_is_someone_else(signals):
    first = await person_of(signals, youth(bsn=synthetic_bsn(1), **NAMED))
    twin = await person_of(signals, youth(bsn=synthetic_bsn(2), **NAMED))
    assert first != twin
    no_bsn = youth(**NAMED)
    del no_bsn["bsn"]
    assert await person_of(signals, no_bsn) == first, "name and address find the first"


async def test_a_bsn_added_later_joins_the_person_found_by_name_and_address(signals):
    by_name = youth(**NAMED)
    del by_name["bsn"]
    first = await person_of(signals, by_name)
    assert await person_of(signals, youth(bsn=synthetic_bsn(3), **NAMED)) == first
    bsn_only = youth(bsn=synthetic_bsn(3))
    assert (
        await person_of(
            signals, {"bsn": bsn_only["bsn"], "date_of_birth": bsn_only["date_of_birth"]}
        )
        == first
    )
    assert await signals.db.persons.count_documents({}) == 1


async def test_a_report_naming_two_registered_people_goes_to_the_one_of_the_bsn(signals):
    by_bsn = await person_of(signals, youth(bsn=synthetic_bsn(4)))
    by_name = youth(**NAMED)
    del by_name["bsn"]
    named = await person_of(signals, by_name)
    both = await person_of(signals, youth(bsn=synthetic_bsn(4), **NAMED))
    assert both == by_bsn != named
    assert await signals.db.persons.count_documents({}) == 2
    # Each hash still finds one person.
    assert await person_of(signals, by_name) == named
