"""The mayor's letter and what the signals service tells a case, on the real broker.

The notifications service's side of the letter is built elsewhere; here the test
publishes mayor-letter-sent itself, exactly as that service will.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from buurtsignaal_contracts import new_event
from buurtsignaal_contracts.codes import (
    LetterDeliveryMethod,
    LetterHandedTo,
    Programme,
    WithdrawalReason,
)
from buurtsignaal_contracts.events import (
    MatchParticipant,
    MayorLetterSent,
    SignalExpired,
    SignalMatched,
    SignalWithdrawn,
    SubjectErased,
)
from cases_service.testing import ADMIN, WEST_WORKER, problem
from servicekit.testing import eventually, queue_depth
from servicekit.testing.events import a_pseudonym, publish
from servicekit.testing.tap import EventTap

pytestmark = pytest.mark.integration

REQUESTED = "nl.buurtsignaal.cases.mayor-letter-requested.v1"
ANSWERED = "nl.buurtsignaal.cases.mayor-letter-answered.v1"
CLOSED = "nl.buurtsignaal.cases.case-closed.v1"
NOW = datetime(2026, 11, 5, 10, tzinfo=UTC)


def letter_sent(case: dict, letter_id: str, delivered_on: date = date(2026, 11, 9)):
    return new_event(
        MayorLetterSent(
            letter_id=uuid.UUID(letter_id),
            case_id=uuid.UUID(case["id"]),
            team=case["team"],
            programme=case["programme"],
            district=case["district"],
            method=LetterDeliveryMethod.HOME_VISIT,
            handed_to=LetterHandedTo.YOUTH_AND_PARENT,
            delivered_on=delivered_on,
            recorded_by="w-west",
            recorded_at=NOW,
        )
    )


async def intensive_case(api, amqp_connection) -> dict:
    case = await api.open_case(amqp_connection, suggested_programme=Programme.INTENSIVE_YOUTH_WORK)
    return (await api.assign(case)).json()


async def request_letter(api, case, addressees=("youth", "parents")):
    return await api.client.post(
        f"/api/v1/cases/{case['id']}/letters",
        json={"addressees": list(addressees), "version": case["version"]},
        headers=WEST_WORKER,
    )


async def test_the_letter_from_request_to_delivery_to_answer(api, amqp_connection):
    case = await intensive_case(api, amqp_connection)
    async with EventTap(amqp_connection) as tap:
        response = await request_letter(api, case)
        assert response.status_code == 201, response.text
        letter = response.json()
        (requested,) = await tap.wait_for(REQUESTED, where=lambda e: e["subject"] == letter["id"])
    assert letter["case_status"] == "letter-requested"
    data = requested["data"]
    assert data["person"] == case["person"] and data["case_id"] == case["id"]
    assert sorted(data["addressees"]) == ["parents", "youth"] and data["worker"] == "w-west"
    case = await api.case(case["id"])
    delivery = next(d for d in case["deadlines"] if d["kind"] == "letter-delivered")
    assert delivery["state"] in ("pending", "overdue")

    await publish(amqp_connection, letter_sent(case, letter["id"]))
    case = await eventually(
        lambda: api.case(case["id"]),
        lambda c: c["status"] == "letter-delivered",
        what="the delivery recorded",
    )
    (stored,) = case["letters"]
    assert (stored["delivered_on"], stored["method"], stored["handed_to"]) == (
        "2026-11-09",
        "home-visit",
        "youth-and-parent",
    )
    answer_deadline = next(d for d in case["deadlines"] if d["kind"] == "letter-answer")
    assert answer_deadline["starts_on"] == "2026-11-09"
    assert answer_deadline["due_on"] == "2026-11-23"  # 10 working days

    async with EventTap(amqp_connection) as tap:
        answered = await api.client.post(
            f"/api/v1/cases/{case['id']}/letters/{letter['id']}/answer",
            json={
                "answer": "accepts-help",
                "answered_on": "2026-11-12",
                "version": case["version"],
            },
            headers=WEST_WORKER,
        )
        assert answered.status_code == 200, answered.text
        (event,) = await tap.wait_for(ANSWERED, where=lambda e: e["subject"] == letter["id"])
    assert answered.json()["status"] == "answer-recorded"
    assert event["data"]["answer"] == "accepts-help" and event["data"]["recorded_by"] == "w-west"
    moved = await api.move(answered.json(), "active")
    assert moved.status_code == 200


async def test_an_answer_before_delivery_and_a_letter_outside_the_intensive_programme_are_refused(
    api, amqp_connection
):
    case = await intensive_case(api, amqp_connection)
    letter = (await request_letter(api, case)).json()
    case = await api.case(case["id"])
    early = await api.client.post(
        f"/api/v1/cases/{case['id']}/letters/{letter['id']}/answer",
        json={"answer": "declines", "answered_on": "2026-11-04", "version": case["version"]},
        headers=WEST_WORKER,
    )
    assert problem(early)["status"] == 409
    unknown = await api.client.post(
        f"/api/v1/cases/{case['id']}/letters/{uuid.uuid4()}/answer",
        json={"answer": "declines", "answered_on": "2026-11-04", "version": case["version"]},
        headers=WEST_WORKER,
    )
    assert problem(unknown)["status"] == 404
    early_signalling = (await api.assign(await api.open_case(amqp_connection))).json()
    refused = problem(await request_letter(api, early_signalling))
    assert refused["status"] == 409 and "intensive-youth-work" in refused["detail"]
    empty = problem(await request_letter(api, case, addressees=()))
    assert empty["status"] == 422 and empty["errors"][0]["field"] == "addressees"


async def test_a_delivery_of_an_unknown_letter_goes_to_the_dead_letter_queue(api, amqp_connection):
    case = await intensive_case(api, amqp_connection)
    await publish(amqp_connection, letter_sent(case, str(uuid.uuid4())))
    await eventually(
        lambda: queue_depth(amqp_connection, "cases.dlq"), lambda n: n == 1, what="dead-lettered"
    )
    assert (await api.case(case["id"]))["status"] == "assigned"


async def test_a_match_raises_priority_and_shows_the_other_organisations(api, amqp_connection):
    case = await api.open_case(amqp_connection)
    police_signal = uuid.uuid4()
    match = new_event(
        SignalMatched(
            match_id=uuid.uuid4(),
            person=case["person"],
            joining_org="politie-schiedam",
            joining_signal_id=police_signal,
            participants=[
                MatchParticipant(
                    organisation="obs-de-singel",
                    professional="r-singel-01",
                    signal_id=uuid.UUID(case["signals"][0]["signal_id"]),
                ),
                MatchParticipant(
                    organisation="politie-schiedam",
                    professional="r-politie-01",
                    signal_id=police_signal,
                ),
            ],
            matched_at=NOW,
        )
    )
    await publish(amqp_connection, match, match)
    matched = await eventually(
        lambda: api.case(case["id"]), lambda c: c["priority"] == "high", what="priority raised"
    )
    assert [o["organisation"] for o in matched["involved_organisations"]] == [
        "obs-de-singel",
        "politie-schiedam",
    ]
    high = await api.client.get("/api/v1/cases", params={"priority": "high"}, headers=WEST_WORKER)
    assert case["id"] in [c["id"] for c in high.json()["items"]]


async def test_a_match_that_arrives_before_the_signal_still_reaches_the_case(api, amqp_connection):
    person = a_pseudonym()
    participants = [
        MatchParticipant(organisation=org, professional=f"{org}-1", signal_id=uuid.uuid4())
        for org in ("obs-de-singel", "jongerenwerk-schiedam")
    ]
    match = SignalMatched(
        match_id=uuid.uuid4(),
        person=person,
        joining_org="jongerenwerk-schiedam",
        joining_signal_id=participants[1].signal_id,
        participants=participants,
        matched_at=NOW,
    )
    await publish(amqp_connection, new_event(match))
    await eventually(
        lambda: api.service.db.person_matches.count_documents({"_id": person}),
        lambda n: n == 1,
        what="the match remembered",
    )
    case = await api.open_case(amqp_connection, person=person)
    assert case["priority"] == "high" and len(case["involved_organisations"]) == 2


async def test_a_wrongful_signal_leaves_and_its_unstarted_case_closes(api, amqp_connection):
    case = await api.open_case(amqp_connection)
    signal_id = uuid.UUID(case["signals"][0]["signal_id"])
    async with EventTap(amqp_connection) as tap:
        await publish(amqp_connection, withdrawn(case, signal_id, WithdrawalReason.WRONGFUL))
        (closed,) = await tap.wait_for(CLOSED, where=lambda e: e["subject"] == case["id"])
    assert closed["data"]["outcome"] == "no-concern" and closed["data"]["closed_by"] == "system"
    after = await api.case(case["id"])
    assert after["signals"] == [] and after["status"] == "closed"
    timeline = await api.client.get(f"/api/v1/cases/{case['id']}/timeline", headers=WEST_WORKER)
    assert str(signal_id) not in timeline.text


async def test_a_withdrawn_or_expired_signal_on_a_case_in_work_is_marked(api, amqp_connection):
    case = (await api.assign(await api.open_case(amqp_connection))).json()
    first = uuid.UUID(case["signals"][0]["signal_id"])
    await publish(amqp_connection, withdrawn(case, first, WithdrawalReason.DUPLICATE))
    after = await eventually(
        lambda: api.case(case["id"]),
        lambda c: c["signals"][0]["state"] == "withdrawn",
        what="the signal marked",
    )
    assert after["status"] == "assigned"
    other = await api.open_case(amqp_connection)
    signal_id = uuid.UUID(other["signals"][0]["signal_id"])
    expired = SignalExpired(
        signal_id=signal_id, person=other["person"], reason="retention-period", expired_at=NOW
    )
    await publish(amqp_connection, new_event(expired))
    marked = await eventually(
        lambda: api.case(other["id"]),
        lambda c: c["signals"][0]["state"] == "expired",
        what="the signal marked expired",
    )
    assert marked["status"] == "open"


async def test_an_erased_person_leaves_no_case_behind(api, amqp_connection):
    case = (await api.assign(await api.open_case(amqp_connection))).json()
    contact = {
        "kind": "phone",
        "reached": True,
        "contact_date": "2026-11-04",
        "part_of_day": "morning",
        "minutes": 10,
    }
    recorded = await api.client.post(
        f"/api/v1/cases/{case['id']}/contacts", json=contact, headers=WEST_WORKER
    )
    assert recorded.status_code == 201
    assert await api.service.db.contacts.count_documents({"person": case["person"]}) == 1
    await eventually(lambda: published_about(api, case), lambda n: n >= 2, what="published")
    # Everything committed so far is published (the audit log's events too): an erasure
    # forgets published events; one still waiting in the outbox goes out afterwards.
    await eventually(
        lambda: api.service.db.outbox.count_documents({"published_at": None}),
        lambda n: n == 0,
        what="the outbox drained",
    )
    erased = SubjectErased(erasure_id=uuid.uuid4(), person=case["person"], erased_at=NOW)
    await publish(amqp_connection, new_event(erased))
    # Watched in the database, not through the API: a read of the case while the erasure
    # is on its way would be audit-logged, and its event could go out after the erasure.
    await eventually(
        lambda: api.service.db.cases.count_documents({"person": case["person"]}),
        lambda n: n == 0,
        what="erased",
    )
    assert await api.cases_of(case["person"], ADMIN) == []
    assert await api.service.db.contacts.count_documents({"person": case["person"]}) == 0
    for collection in ("screenings", "cases"):
        assert await api.service.db[collection].count_documents({"person": case["person"]}) == 0
    assert await api.service.db.person_matches.count_documents({"_id": case["person"]}) == 0
    assert await published_about(api, case) == 0, "no event about the case is kept"


async def published_about(api, case: dict) -> int:
    """Published outbox records that name the person or the case."""
    published = await api.service.db.outbox.find({"published_at": {"$ne": None}}).to_list()
    needles = (case["person"].encode(), case["id"].encode())
    return sum(any(n in r["body"] for n in needles) for r in published)


def withdrawn(case: dict, signal_id: uuid.UUID, reason: WithdrawalReason):
    return new_event(
        SignalWithdrawn(
            signal_id=signal_id,
            person=case["person"],
            reporting_org="obs-de-singel",
            reason=reason,
            withdrawn_at=NOW,
        )
    )

