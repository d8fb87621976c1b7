"""Screenings, contacts and the timeline through the API, with their events on the broker."""

from __future__ import annotations

import pytest

from buurtsignaal_contracts.codes import CaseStatus, Programme
from cases_service.testing import NOORD_WORKER, WEST_WORKER, problem
from servicekit.testing.tap import EventTap

pytestmark = pytest.mark.integration

SCREENED = "nl.buurtsignaal.cases.screening-completed.v1"
CONTACTED = "nl.buurtsignaal.cases.contact-recorded.v1"
WANTED = [
    "accepts-correction",
    "responds-to-praise",
    "keeps-agreements",
    "shows-remorse",
    "considers-others",
    "bonds-with-adult",
    "copies-good-example",
]
UNWANTED = ["physical-aggression", "seeks-conflict", "repeats-after-sanction"]


def answers(wanted: str, unwanted: str) -> dict[str, str]:
    return {**dict.fromkeys(WANTED, wanted), **dict.fromkeys(UNWANTED, unwanted)}


async def screen(api, case, given_answers, version="1.0", as_=WEST_WORKER):
    return await api.client.post(
        f"/api/v1/cases/{case['id']}/screenings",
        json={
            "instrument": "social-learnability",
            "instrument_version": version,
            "answers": given_answers,
            "version": case["version"],
        },
        headers=as_,
    )


async def test_clients_can_read_the_instruments_they_render(api):
    listed = await api.client.get("/api/v1/screening-instruments", headers=WEST_WORKER)
    assert listed.json() == [
        {
            "instrument": "social-learnability",
            "version": "1.0",
            "title": "Sociale leerbaarheid",
            "questions": 10,
        }
    ]
    one = await api.client.get(
        "/api/v1/screening-instruments/social-learnability/1.0", headers=WEST_WORKER
    )
    assert [q["id"] for q in one.json()["questions"]] == WANTED + UNWANTED
    assert one.json()["scales"]["wanted-behaviour"][0] == {
        "value": "always",
        "label": "Altijd",
        "score": 0,
    }
    missing = await api.client.get(
        "/api/v1/screening-instruments/social-learnability/9.0", headers=WEST_WORKER
    )
    assert problem(missing)["status"] == 404


async def test_a_screening_with_start_trajectory_activates_the_case(api, amqp_connection):
    case = await api.seed(CaseStatus.SCREENING, Programme.EARLY_SIGNALLING)
    async with EventTap(amqp_connection) as tap:
        response = await screen(api, case, answers("often", "sometimes"))
        assert response.status_code == 201, response.text
        (event,) = await tap.wait_for(SCREENED, where=lambda e: e["subject"] == case["id"])
    body = response.json()
    assert (body["score"], body["outcome"]) == (10, "start-trajectory")
    assert (body["instrument"], body["instrument_version"]) == ("social-learnability", "1.0")
    assert body["case_status"] == "active" and body["case_version"] == case["version"] + 1
    data = event["data"]
    assert (data["score"], data["outcome"], data["instrument_version"]) == (
        10,
        "start-trajectory",
        "1.0",
    )
    assert data["completed_by"] == "w-west" and data["screening_id"] == body["id"]
    assert "answers" not in data, "answers stay in the service"
    stored = (
        await api.client.get(f"/api/v1/cases/{case['id']}/screenings", headers=WEST_WORKER)
    ).json()
    assert stored["items"][0]["answers"] == answers("often", "sometimes")
    after = await api.case(case["id"])
    assert after["screening"]["outcome"] == "start-trajectory"
    screening = next(d for d in after["deadlines"] if d["kind"] == "screening")
    assert screening["state"] in ("met", "met-late")


async def test_refer_to_care_leaves_the_case_in_screening_for_the_worker_to_close(api):
    case = await api.seed(CaseStatus.SCREENING, Programme.EARLY_SIGNALLING)
    body = (await screen(api, case, answers("never", "often"))).json()
    assert (body["score"], body["outcome"], body["case_status"]) == (
        27,
        "refer-to-care",
        "screening",
    )
    case = await api.case(case["id"])
    closed = await api.move(case, "closed", outcome="referred-to-care")
    assert closed.json()["outcome"] == "referred-to-care"


async def test_invalid_answers_are_refused_naming_each_question_and_nothing_is_stored(api):
    case = await api.seed(CaseStatus.SCREENING, Programme.EARLY_SIGNALLING)
    given_answers = answers("always", "never")
    del given_answers["bonds-with-adult"]
    given_answers["seeks-conflict"] = "daily"
    given_answers["shoe-size"] = "38"
    body = problem(await screen(api, case, given_answers))
    assert body["status"] == 422
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("answers.bonds-with-adult", "missing"),
        ("answers.seeks-conflict", "enum"),
        ("answers.shoe-size", "unknown"),
    }
    unknown = problem(await screen(api, case, answers("always", "never"), version="2.0"))
    assert unknown["errors"][0]["field"] == "instrument_version"
    after = await api.case(case["id"])
    assert after["version"] == case["version"] and after["screening"] is None
    listed = await api.client.get(f"/api/v1/cases/{case['id']}/screenings", headers=WEST_WORKER)
    assert listed.json()["items"] == []


async def test_a_screening_outside_the_screening_status_is_refused(api):
    case = await api.seed(CaseStatus.ASSIGNED, Programme.EARLY_SIGNALLING)
    body = problem(await screen(api, case, answers("always", "never")))
    assert body["status"] == 409 and body["type"].endswith("transition-not-allowed")


async def contact(api, case, as_=WEST_WORKER, **changes):
    body = {
        "kind": "home-visit",
        "reached": True,
        "contact_date": "2026-11-05",
        "part_of_day": "afternoon",
        "minutes": 50,
        **changes,
    }
    return await api.client.post(f"/api/v1/cases/{case['id']}/contacts", json=body, headers=as_)


async def test_contacts_are_recorded_summed_and_published(api, amqp_connection):
    case = await api.seed(CaseStatus.ASSIGNED, Programme.NEIGHBOURHOOD_TEAM)
    async with EventTap(amqp_connection) as tap:
        missed = await contact(api, case, kind="phone", reached=False, minutes=5)
        reached = await contact(api, case, contact_date="2026-11-06", part_of_day="evening")
        assert missed.status_code == reached.status_code == 201, missed.text
        events = await tap.wait_for(CONTACTED, 2, where=lambda e: e["subject"] == case["id"])
    assert [(e["data"]["kind"], e["data"]["reached"], e["data"]["minutes"]) for e in events] == [
        ("phone", False, 5),
        ("home-visit", True, 50),
    ]
    assert events[1]["data"]["worker"] == "w-west" and events[1]["data"]["district"] == "west"
    listed = (
        await api.client.get(f"/api/v1/cases/{case['id']}/contacts", headers=WEST_WORKER)
    ).json()
    assert listed["minutes_total"] == 55 and len(listed["items"]) == 2
    first_contact = next(
        d for d in (await api.case(case["id"]))["deadlines"] if d["kind"] == "first-contact"
    )
    assert first_contact["met_on"] == "2026-11-06"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"contact_date": "2999-01-01"}, "contact_date"),
        ({"contact_date": "2026-10-01"}, "contact_date"),
        ({"minutes": 2000}, "minutes"),
        ({"kind": "pigeon"}, "kind"),
        ({"part_of_day": "noon"}, "part_of_day"),
        ({"notes": "free text about the family"}, "notes"),
    ],
    ids=["future", "before-signal", "minutes", "kind", "part-of-day", "no-free-text"],
)
async def test_a_wrong_contact_names_its_field_and_stores_nothing(api, changes, field):
    case = await api.seed(CaseStatus.ASSIGNED, Programme.NEIGHBOURHOOD_TEAM)
    body = problem(await contact(api, case, **changes))
    assert body["status"] == 422 and body["errors"][0]["field"] == field
    listed = (
        await api.client.get(f"/api/v1/cases/{case['id']}/contacts", headers=WEST_WORKER)
    ).json()
    assert listed["items"] == []


async def test_a_retried_contact_with_its_idempotency_key_is_recorded_once(api):
    case = await api.seed(CaseStatus.ASSIGNED, Programme.NEIGHBOURHOOD_TEAM)
    keyed = {**WEST_WORKER, "Idempotency-Key": "visit-2026-11-05"}
    first = await contact(api, case, as_=keyed)
    again = await contact(api, case, as_=keyed)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other_body = problem(await contact(api, case, as_=keyed, minutes=10))
    assert other_body["status"] == 422
    listed = (
        await api.client.get(f"/api/v1/cases/{case['id']}/contacts", headers=WEST_WORKER)
    ).json()
    assert len(listed["items"]) == 1


async def test_contacts_on_a_closed_case_are_refused(api):
    case = await api.seed(CaseStatus.CLOSED, Programme.NEIGHBOURHOOD_TEAM)
    assert problem(await contact(api, case))["status"] == 409


async def test_the_timeline_shows_everything_in_order(api, amqp_connection):
    case = await api.open_case(amqp_connection)  # early-signalling, received 3 November 2026
    case = (await api.assign(case)).json()
    await contact(api, case, contact_date="2026-11-04", part_of_day="morning")
    case = (await api.move(await api.case(case["id"]), "screening")).json()
    await screen(api, case, answers("often", "sometimes"))
    timeline = await api.client.get(f"/api/v1/cases/{case['id']}/timeline", headers=WEST_WORKER)
    entries = timeline.json()["entries"]
    assert [e["kind"] for e in entries] == [
        "signal",
        "contact",  # 4 November, recorded later: shown on its own day
        "assigned",
        "status-changed",
        "status-changed",
        "screening-completed",
        "status-changed",
    ]
    assert [e["details"].get("to") for e in entries if e["kind"] == "status-changed"] == [
        "assigned",
        "screening",
        "active",
    ]
    assert entries[0]["details"]["reporting_org"] == "obs-de-singel"
    assert entries[-2]["details"]["outcome"] == "start-trajectory"
    other = await api.client.get(f"/api/v1/cases/{case['id']}/timeline", headers=NOORD_WORKER)
    assert other.status_code == 404
