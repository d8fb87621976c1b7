"""Matching across organisations on the real database and broker (VIR-style)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from servicekit.testing import token_for
from servicekit.testing.tap import EventTap
from signals_service.testing import committed_events, signal_body, synthetic_bsn, youth

pytestmark = pytest.mark.integration

SCHOOL = token_for("r-school", "reporter", org="obs-de-singel")
SCHOOL_COLLEAGUE = token_for("r-school-2", "reporter", org="obs-de-singel")
POLICE = token_for("p-wijkagent", "reporter", org="politie-schiedam")
GP = token_for("h-huisarts", "reporter", org="huisartsen-west")
MATCHED = "nl.buurtsignaal.signals.signal-matched.v1"


async def report(service, headers, person, **changes) -> dict:
    response = await service.client.post(
        "/api/v1/signals", json=signal_body(person, **changes), headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_school_and_the_police_about_one_youth_give_exactly_one_match(
    signals, amqp_connection
):
    async with EventTap(amqp_connection, "signals.signal-matched.v1") as tap:
        school = await report(signals, SCHOOL, youth())
        police = await report(
            signals, POLICE, youth(), source_type="police", category="police-incident"
        )
        (event,) = await tap.wait_for(MATCHED)
    data = event["data"]
    assert event["subject"] == data["match_id"]
    assert data["person"] == school["person"] == police["person"]
    assert data["joining_org"] == "politie-schiedam"
    assert data["joining_signal_id"] == police["id"]
    assert data["household"] is False
    assert data["participants"] == [
        {"organisation": "obs-de-singel", "professional": "r-school", "signal_id": school["id"]},
        {
            "organisation": "politie-schiedam",
            "professional": "p-wijkagent",
            "signal_id": police["id"],
        },
    ]
    assert "duwt" not in str(event), "never the content"
    assert len(await committed_events(signals, "signal-matched")) == 1


async def test_the_same_organisation_twice_is_not_a_match(signals):
    await report(signals, SCHOOL, youth())
    await report(signals, SCHOOL_COLLEAGUE, youth(), category="behaviour-vandalism")
    assert await committed_events(signals, "signal-matched") == []


async def test_three_organisations_give_one_event_per_joining_organisation(signals):
    await report(signals, SCHOOL, youth())
    await report(signals, POLICE, youth(), source_type="police")
    await report(signals, SCHOOL_COLLEAGUE, youth())  # the school again: nobody new
    gp = await report(signals, GP, youth(), source_type="gp")
    await report(signals, POLICE, youth(), source_type="police")  # the police again

    events = [e["data"] for e in await committed_events(signals, "signal-matched")]
    assert [e["joining_org"] for e in events] == ["politie-schiedam", "huisartsen-west"]
    assert events[0]["match_id"] == events[1]["match_id"], "one match, joined twice"
    assert [p["organisation"] for p in events[1]["participants"]] == [
        "obs-de-singel",
        "politie-schiedam",
        "huisartsen-west",
    ]
    assert events[1]["joining_signal_id"] == gp["id"]


async def test_a_withdrawn_signal_does_not_match(signals):
    school = await report(signals, SCHOOL, youth())
    withdrawn = await signals.client.post(
        f"/api/v1/signals/{school['id']}/withdrawal", json={"reason": "resolved"}, headers=SCHOOL
    )
    assert withdrawn.status_code == 200, withdrawn.text
    await report(signals, POLICE, youth(), source_type="police")
    assert await committed_events(signals, "signal-matched") == []


async def test_an_expired_signal_does_not_match_even_before_the_retention_job_ran(
    start_signals, clock
):
    async with start_signals(clock) as signals:
        await report(signals, SCHOOL, youth(today=clock.now().date()), today=clock.now().date())
        clock.advance(timedelta(days=2 * 366))  # past its expiry; the job has not run
        later = clock.now().date()
        person = youth(today=later, age_days=12 * 365)
        person["date_of_birth"] = youth(today=clock.now().date() - timedelta(days=2 * 366))[
            "date_of_birth"
        ]
        await report(signals, POLICE, person, today=later, source_type="police")
        assert await committed_events(signals, "signal-matched") == []


async def test_a_match_ends_when_an_organisation_withdraws_and_a_rejoin_is_announced(signals):
    school = await report(signals, SCHOOL, youth())
    await report(signals, POLICE, youth(), source_type="police")
    await signals.client.post(
        f"/api/v1/signals/{school['id']}/withdrawal", json={"reason": "resolved"}, headers=SCHOOL
    )
    await report(signals, SCHOOL, youth())  # a new concern, later: the school joins again
    first, second = [e["data"] for e in await committed_events(signals, "signal-matched")]
    assert (first["joining_org"], second["joining_org"]) == ("politie-schiedam", "obs-de-singel")
    assert first["match_id"] != second["match_id"], "the first match ended with the withdrawal"


async def test_signals_arriving_at_the_same_moment_still_match_exactly_once(signals):
    """Two organisations about a person new to the service, at once, for many people."""
    people = [youth(bsn=synthetic_bsn(100 + n), house_number=str(n + 1)) for n in range(8)]

    async def both_at_once(person: dict) -> None:
        await asyncio.gather(
            report(signals, SCHOOL, person),
            report(signals, POLICE, person, source_type="police"),
            report(signals, GP, person, source_type="gp"),
        )

    await asyncio.gather(*(both_at_once(p) for p in people))
    events = [e["data"] for e in await committed_events(signals, "signal-matched")]
    assert await signals.db.persons.count_documents({}) == len(people)
    by_person: dict[str, list[dict]] = {}
    for event in events:
        by_person.setdefault(event["person"], []).append(event)
    assert len(by_person) == len(people)
    for joins in by_person.values():
        assert len(joins) == 2, "three organisations: two joins, whatever the timing"
        assert len({j["joining_org"] for j in joins}) == 2
        assert len(joins[1]["participants"]) == 3
        assert joins[0]["match_id"] == joins[1]["match_id"]


async def test_the_reporter_sees_who_else_is_involved_never_what_they_reported(signals):
    school = await report(signals, SCHOOL, youth())
    await report(signals, POLICE, youth(), source_type="police", description="Synthetisch geheim.")
    mine = (await signals.client.get(f"/api/v1/signals/{school['id']}", headers=SCHOOL)).json()
    assert mine["matched_with"] == [
        {"organisation": "politie-schiedam", "professional": "p-wijkagent"}
    ]
    assert "geheim" not in str(mine)


async def test_household_matching_is_off_by_default_and_can_be_switched_on(start_signals):
    async with start_signals() as signals:
        await report(signals, SCHOOL, youth(bsn=synthetic_bsn(300), house_number="7"))
        await report(
            signals, POLICE, youth(bsn=synthetic_bsn(301), house_number="7"), source_type="police"
        )
        assert await committed_events(signals, "signal-matched") == []

    async with start_signals(household_matching=True) as signals:
        sister = youth(bsn=synthetic_bsn(310), house_number="9")
        brother = youth(
            bsn=synthetic_bsn(311), house_number="9", postcode="3117ab", age_days=8 * 365
        )
        neighbour = youth(bsn=synthetic_bsn(312), house_number="9", postcode="3117 AC")
        first = await report(signals, SCHOOL, sister)
        second = await report(signals, POLICE, brother, source_type="police")
        await report(signals, GP, neighbour, source_type="gp")  # another address
        events = [e["data"] for e in await committed_events(signals, "signal-matched")]
        (household,) = [e for e in events if e["household"]]
        assert household["joining_signal_id"] == second["id"]
        assert [p["signal_id"] for p in household["participants"]] == [first["id"], second["id"]]
        assert first["person"] != second["person"]
        assert [e for e in events if not e["household"]] == []


async def test_a_household_match_adding_no_one_is_not_announced_twice(start_signals):
    async with start_signals(household_matching=True) as signals:
        await report(signals, SCHOOL, youth())
        await report(signals, POLICE, youth(), source_type="police")
        events = [e["data"] for e in await committed_events(signals, "signal-matched")]
        assert [e["household"] for e in events] == [False]
