"""Signals open cases or join them: on the real broker, through the real queue."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from buurtsignaal_contracts import new_event
from buurtsignaal_contracts.codes import Category, SourceType
from buurtsignaal_contracts.events import SignalReceived
from servicekit.testing import eventually, token_for
from servicekit.testing.events import a_pseudonym, publish, signal_received
from servicekit.testing.tap import EventTap

pytestmark = pytest.mark.integration

OPENED = "nl.buurtsignaal.cases.case-opened.v1"
WEST_WORKER = token_for("w-west", "worker", teams=["wot-west"])
NOORD_WORKER = token_for("w-noord", "worker", teams=["wot-noord"])


def signal(person: str, **changes) -> SignalReceived:
    return signal_received(person=person, **changes)


async def cases_of(service, person: str) -> list[dict]:
    response = await service.client.get(
        "/api/v1/cases", params={"person": person}, headers=WEST_WORKER
    )
    return response.json()["items"]


async def test_a_signal_opens_a_case_for_the_team_of_the_district(cases, amqp_connection):
    person = a_pseudonym()
    first = new_event(signal(person))
    async with EventTap(amqp_connection) as tap:
        await publish(amqp_connection, first)
        (opened,) = await tap.wait_for(OPENED, where=lambda e: e["data"]["person"] == person)
    assert opened["data"]["team"] == "wot-west"
    assert opened["data"]["programme"] == "early-signalling"
    assert opened["causationid"] == str(first.id)
    assert opened["correlationid"] == first.correlationid
    (case,) = await cases_of(cases, person)
    assert case["status"] == "open" and case["signals"][0]["signal_id"] == str(first.data.signal_id)


async def test_later_signals_join_the_open_case_and_another_programme_opens_another(
    cases, amqp_connection
):
    person = a_pseudonym()
    async with EventTap(amqp_connection) as tap:
        await publish(amqp_connection, new_event(signal(person)))
        await tap.wait_for(OPENED, where=lambda e: e["data"]["person"] == person)
        await publish(
            amqp_connection,
            new_event(
                signal(person, source_type=SourceType.POLICE, reporting_org="politie-schiedam")
            ),
        )
        await publish(
            amqp_connection, new_event(signal(person, category=Category.SCHOOL_ABSENCE_RELATIVE))
        )
        await tap.wait_for(OPENED, 2, where=lambda e: e["data"]["person"] == person)
        found = await eventually(
            lambda: cases_of(cases, person),
            lambda cs: sum(len(c["signals"]) for c in cs) == 3,
            what="three signals on cases",
        )
    by_programme = {c["programme"]: c for c in found}
    assert set(by_programme) == {"early-signalling", "truancy-taskforce"}
    assert [s["reporting_org"] for s in by_programme["early-signalling"]["signals"]] == [
        "obs-de-singel",
        "politie-schiedam",
    ]


async def test_signals_arriving_together_for_a_new_person_open_one_case(cases, amqp_connection):
    person = a_pseudonym()
    events = [new_event(signal(person)) for _ in range(6)]
    await publish(amqp_connection, *events)
    found = await eventually(
        lambda: cases_of(cases, person),
        lambda cs: cs and len(cs[0]["signals"]) == 6,
        what="all six signals on the case",
    )
    assert len(found) == 1


async def test_the_same_event_twice_opens_one_case(cases, amqp_connection):
    person = a_pseudonym()
    event = new_event(signal(person))
    await publish(amqp_connection, event, event)
    duplicates = cases.runtime.metrics.duplicates_ignored.labels(event.type)
    await eventually(
        lambda: asyncio.sleep(0, duplicates._value.get()),
        lambda v: v == 1,
        what="the duplicate recognised",
    )
    assert len(await cases_of(cases, person)) == 1


async def test_a_worker_sees_only_the_cases_of_their_team(cases, amqp_connection):
    person = a_pseudonym()
    await publish(amqp_connection, new_event(signal(person)))
    (case,) = await eventually(lambda: cases_of(cases, person), what="the case")
    own = await cases.client.get(f"/api/v1/cases/{case['id']}", headers=WEST_WORKER)
    other = await cases.client.get(f"/api/v1/cases/{case['id']}", headers=NOORD_WORKER)
    missing = await cases.client.get(f"/api/v1/cases/{uuid.uuid4()}", headers=NOORD_WORKER)
    listed = await cases.client.get(
        "/api/v1/cases", params={"person": person}, headers=NOORD_WORKER
    )
    assert own.status_code == 200
    assert other.status_code == missing.status_code == 404, "another team's case looks like no case"
    assert other.json()["detail"] == missing.json()["detail"]
    assert listed.json()["items"] == []
    analyst = await cases.client.get("/api/v1/cases", headers=token_for("an", "analyst"))
    assert analyst.status_code == 403
