"""Property: whatever a person is called and whatever is written about them, no event
the service commits to publish contains their BSN, names, birth date, postcode or the
description. Every kind of event is provoked: received, matched, withdrawn, expired.
"""

from __future__ import annotations

import json
import string
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicekit.areas import load_area_config
from servicekit.testing import token_for
from signals_service.domain.identity import normalise_postcode, normalise_text
from signals_service.lifecycle import run_retention
from signals_service.testing import synthetic_bsns

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SCHOOL = token_for("r-school", "reporter", org="obs-de-singel")
POLICE = token_for("p-wijkagent", "reporter", org="politie-schiedam")
FICTIONAL = ["Voorbeeld", "Proefmans", "Testerink", "Oefening", "Fictief"]
SCHIEDAM_POSTCODES = sorted(p for d in load_area_config().districts for p in d.postcodes)
LETTERS = string.ascii_letters + "éëïöüçñøåÉÖ'- "

names = st.builds(
    lambda base, suffix: (base + suffix).strip(),
    st.sampled_from(FICTIONAL),
    st.text(alphabet=LETTERS, max_size=20),
)
postcodes = st.builds(
    lambda digits, letters, space: f"{digits}{' ' if space else ''}{letters}",
    st.sampled_from(SCHIEDAM_POSTCODES),
    st.text(alphabet=string.ascii_uppercase, min_size=2, max_size=2),
    st.booleans(),
)
births = st.dates(
    min_value=START.date() - timedelta(days=22 * 365), max_value=START.date() - timedelta(days=366)
)
descriptions = st.builds(
    lambda text: "Synthetisch: " + text, st.text(min_size=1, max_size=300)
).filter(lambda d: d.strip() == d)


def all_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *all_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in all_strings(v)]
    return []


@pytest.fixture
async def service(start_signals, clock):
    """One running service for every example (hypothesis runs them in one test call)."""
    async with start_signals(clock) as running:
        # What every transaction commits to the outbox, kept here: the outbox itself
        # loses published records at any moment (the relay stamps them with the fixed
        # clock's day, long past the TTL index's week).
        transactions = running.runtime.transactions
        write_outbox = transactions._write_outbox
        running.committed = []

        async def keep_a_copy(uow) -> None:
            running.committed.extend(event.to_json_bytes() for event in uow.events)
            await write_outbox(uow)

        transactions._write_outbox = keep_a_copy
        yield running


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    bsn=st.sampled_from(synthetic_bsns()),
    with_bsn=st.booleans(),
    given_name=names,
    family_name=names,
    guardian=names,
    birth=births,
    postcode=postcodes,
    house_number=st.integers(min_value=1, max_value=999),
    description=descriptions,
)
async def test_no_event_contains_personal_data(
    service,
    clock,
    bsn,
    with_bsn,
    given_name,
    family_name,
    guardian,
    birth,
    postcode,
    house_number,
    description,
):
    clock.set(START)
    before = len(service.committed)
    person = {
        "given_name": given_name,
        "family_name": family_name,
        "date_of_birth": birth.isoformat(),
        "postcode": postcode,
        "house_number": str(house_number),
        "guardians": [{"given_name": guardian, "family_name": family_name}],
    }
    if with_bsn:
        person["bsn"] = bsn
    body = {
        "source_type": "school",
        "category": "behaviour-aggression",
        "person": person,
        "occurred_on": (START.date() - timedelta(days=1)).isoformat(),
        "description": description,
    }
    school = await service.client.post("/api/v1/signals", json=body, headers=SCHOOL)
    assert school.status_code == 201, school.text
    police = await service.client.post(
        "/api/v1/signals", json={**body, "source_type": "police"}, headers=POLICE
    )
    assert police.status_code == 201, police.text
    withdrawn = await service.client.post(
        f"/api/v1/signals/{school.json()['id']}/withdrawal",
        json={"reason": "resolved"},
        headers=SCHOOL,
    )
    assert withdrawn.status_code == 200
    await run_retention(service.runtime, START + timedelta(days=2 * 366))

    bodies = service.committed[before:]
    kinds = {json.loads(body)["type"].split(".")[3] for body in bodies}
    assert {"signal-received", "signal-withdrawn", "signal-expired"} <= kinds
    assert "personal-data-processed" in kinds
    raw = "\n".join(body.decode() for body in bodies)
    decoded = "\n".join(s for body in bodies for s in all_strings(json.loads(body)))
    secrets = {
        bsn,
        given_name,
        family_name,
        guardian,
        normalise_text(given_name),
        normalise_text(family_name),
        birth.isoformat(),
        birth.strftime("%d-%m-%Y"),
        birth.strftime("%Y%m%d"),
        postcode,
        normalise_postcode(postcode),
        description,
    }
    for secret in secrets:
        assert secret not in raw and secret not in decoded, "personal data in an event"


def test_the_name_strategy_cannot_collide_with_what_events_legitimately_hold():
    """Guard of the property above: a leak would show, and nothing innocent matches."""
    assert all(n.lower() not in "signal-received obs-de-singel politie-schiedam" for n in FICTIONAL)
    assert date(2026, 1, 1) > START.date() - timedelta(days=22 * 365)
