"""The whole path on the real broker: a signal opens a case, an area manager assigns it,
the worker screens, records a contact and closes it with an outcome; every step's
event is published in order, and the timeline tells the same story."""

from __future__ import annotations

import pytest

from buurtsignaal_contracts import new_event
from cases_service.testing import AREA_MANAGER_WEST, WEST_WORKER
from servicekit.testing import eventually
from servicekit.testing.events import a_pseudonym, publish, signal_received
from servicekit.testing.tap import EventTap

pytestmark = pytest.mark.integration

ANSWERS = {
    "accepts-correction": "often",
    "responds-to-praise": "always",
    "keeps-agreements": "sometimes",
    "shows-remorse": "often",
    "considers-others": "sometimes",
    "bonds-with-adult": "often",
    "copies-good-example": "sometimes",
    "physical-aggression": "often",
    "seeks-conflict": "sometimes",
    "repeats-after-sanction": "sometimes",
}


async def test_from_signal_to_assigned_case_to_screening_to_closure(cases, amqp_connection):
    client = cases.client
    person = a_pseudonym()
    signal = new_event(signal_received(person=person))
    async with EventTap(amqp_connection) as tap:
        await publish(amqp_connection, signal)
        (opened,) = await tap.wait_for(
            "nl.buurtsignaal.cases.case-opened.v1", where=lambda e: e["data"]["person"] == person
        )
        case_id = opened["subject"]

        # The area manager sees the new case of their team and assigns a worker.
        listed = await client.get(
            "/api/v1/cases", params={"status": "open", "limit": 100}, headers=AREA_MANAGER_WEST
        )
        case = next(c for c in listed.json()["items"] if c["id"] == case_id)
        case = await ok(
            client.post(
                f"/api/v1/cases/{case_id}/assignment",
                json={"worker": "w-west", "version": case["version"]},
                headers=AREA_MANAGER_WEST,
            )
        )
        assert (case["status"], case["worker"]) == ("assigned", "w-west")

        # The worker starts the screening and completes it.
        case = await ok(status(client, case, "screening"))
        screening = await ok(
            client.post(
                f"/api/v1/cases/{case_id}/screenings",
                json={
                    "instrument": "social-learnability",
                    "instrument_version": "1.0",
                    "answers": ANSWERS,
                    "version": case["version"],
                },
                headers=WEST_WORKER,
            ),
            201,
        )
        assert (screening["score"], screening["outcome"], screening["case_status"]) == (
            13,  # 9 for the wanted behaviour, 4 for the unwanted
            "start-trajectory",
            "active",
        )
        contact = await ok(
            client.post(
                f"/api/v1/cases/{case_id}/contacts",
                json={
                    "kind": "home-visit",
                    "reached": True,
                    "contact_date": "2026-11-04",
                    "part_of_day": "afternoon",
                    "minutes": 75,
                },
                headers=WEST_WORKER,
            ),
            201,
        )
        case = await get(client, case_id)
        assert case["version"] == contact["case_version"]
        case = await ok(status(client, case, "closed", outcome="resolved"))
        assert (case["status"], case["outcome"]) == ("closed", "resolved")
        await tap.wait_for(
            "nl.buurtsignaal.cases.case-closed.v1", where=lambda e: e["subject"] == case_id
        )

    of_case = [e for e in tap.events() if e["type"].startswith("nl.buurtsignaal.cases.")]
    of_case = [e for e in of_case if e["data"].get("case_id") == case_id]
    assert [(e["type"].split(".")[3], e["data"].get("to_status")) for e in of_case] == [
        ("case-opened", None),
        ("case-assigned", None),
        ("case-status-changed", "assigned"),
        ("case-status-changed", "screening"),
        ("screening-completed", None),
        ("case-status-changed", "active"),
        ("contact-recorded", None),
        ("case-status-changed", "closed"),
        ("case-closed", None),
    ]
    assert {e["correlationid"] for e in of_case[:1]} == {signal.correlationid}
    assert of_case[0]["causationid"] == str(signal.id)
    closed = of_case[-1]["data"]
    assert closed["outcome"] == "resolved" and closed["closed_by"] == "w-west"

    timeline = await eventually(lambda: get(client, f"{case_id}/timeline"), what="the timeline")
    assert [e["kind"] for e in timeline["entries"]] == [
        "signal",
        "contact",
        "assigned",
        "status-changed",
        "status-changed",
        "screening-completed",
        "status-changed",
        "status-changed",
    ]
    assert all(d["state"] in ("met", "met-late", "cancelled") for d in case["deadlines"])


async def ok(request, expected: int = 200) -> dict:
    response = await request
    assert response.status_code == expected, response.text
    return response.json()


def status(client, case: dict, to: str, **fields):
    return client.post(
        f"/api/v1/cases/{case['id']}/status",
        json={"status": to, "version": case["version"], **fields},
        headers=WEST_WORKER,
    )


async def get(client, path: str) -> dict:
    response = await client.get(f"/api/v1/cases/{path}", headers=WEST_WORKER)
    assert response.status_code == 200, response.text
    return response.json()
