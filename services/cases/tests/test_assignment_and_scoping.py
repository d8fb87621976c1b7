"""Who may do what with which case; optimistic concurrency; lists with filters and pages."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from buurtsignaal_contracts.codes import CaseStatus, Programme
from cases_service.testing import (
    ADMIN,
    AREA_MANAGER_NOORD,
    AREA_MANAGER_WEST,
    NOORD_WORKER,
    WEST_COLLEAGUE,
    WEST_WORKER,
    problem,
)
from servicekit.testing import token_for
from servicekit.testing.tap import EventTap

pytestmark = pytest.mark.integration

ASSIGNED = "nl.buurtsignaal.cases.case-assigned.v1"
STATUS_CHANGED = "nl.buurtsignaal.cases.case-status-changed.v1"


async def test_an_area_manager_assigns_a_worker_of_a_team_they_manage(api, amqp_connection):
    case = await api.open_case(amqp_connection)
    async with EventTap(amqp_connection) as tap:
        response = await api.assign(case, "w-west")
        assert response.status_code == 200, response.text
        (assigned,) = await tap.wait_for(ASSIGNED, where=lambda e: e["subject"] == case["id"])
        (moved,) = await tap.wait_for(STATUS_CHANGED, where=lambda e: e["subject"] == case["id"])
    assert response.json()["status"] == "assigned" and response.json()["worker"] == "w-west"
    data = assigned["data"]
    assert (data["worker"], data["previous_worker"], data["assigned_by"]) == (
        "w-west",
        None,
        "am-02",
    )
    assert (data["team"], data["programme"], data["district"]) == (
        "wot-west",
        "early-signalling",
        "west",
    )
    assert (moved["data"]["from_status"], moved["data"]["to_status"]) == ("open", "assigned")
    assert moved["data"]["changed_by"] == "am-02"


async def test_reassigning_keeps_the_status_and_names_the_previous_worker(api, amqp_connection):
    case = await api.open_case(amqp_connection)
    case = (await api.assign(case, "w-west")).json()
    case = (await api.move(case, "active")).json()
    async with EventTap(amqp_connection) as tap:
        response = await api.assign(case, "w-west-2")
        (event,) = await tap.wait_for(ASSIGNED, where=lambda e: e["subject"] == case["id"])
    assert response.json()["status"] == "active" and response.json()["worker"] == "w-west-2"
    assert event["data"]["previous_worker"] == "w-west"
    assert tap.events(STATUS_CHANGED) == []


async def test_only_area_managers_of_the_team_assign(api, amqp_connection):
    case = await api.open_case(amqp_connection)
    worker = problem(await api.assign(case, as_=WEST_WORKER))
    assert worker["status"] == 403
    other_manager = problem(await api.assign(case, as_=AREA_MANAGER_NOORD))
    assert other_manager["status"] == 404
    admin = problem(await api.assign(case, as_=ADMIN))
    assert admin["status"] == 403
    token_manager = token_for("am-99", "area-manager", teams=["wot-west"])
    assert (await api.assign(case, as_=token_manager)).status_code == 200, "teams from the token"
    closed = (await api.move(await api.case(case["id"]), "closed", outcome="no-concern")).json()
    refused = problem(await api.assign(closed))
    assert refused["status"] == 409 and "reopen" in refused["detail"]


async def test_another_team_s_case_is_404_everywhere_like_a_missing_one(api, amqp_connection):
    case = await api.open_case(amqp_connection)
    case_id = case["id"]
    missing = str(uuid.uuid4())
    for path in ("", "/timeline", "/contacts", "/screenings"):
        other = await api.client.get(f"/api/v1/cases/{case_id}{path}", headers=NOORD_WORKER)
        absent = await api.client.get(f"/api/v1/cases/{missing}{path}", headers=NOORD_WORKER)
        assert other.status_code == absent.status_code == 404, path
        assert problem(other)["detail"] == problem(absent)["detail"]
    writes = [
        ("status", {"status": "closed", "outcome": "no-concern", "version": case["version"]}),
        (
            "contacts",
            {
                "kind": "phone",
                "reached": True,
                "contact_date": "2026-11-03",
                "part_of_day": "morning",
                "minutes": 5,
            },
        ),
        ("letters", {"addressees": ["youth"], "version": case["version"]}),
    ]
    for path, body in writes:
        other = await api.client.post(
            f"/api/v1/cases/{case_id}/{path}", json=body, headers=NOORD_WORKER
        )
        assert other.status_code == 404, path
    assert (await api.case(case_id))["version"] == case["version"], "nothing changed"
    listed = await api.client.get(
        "/api/v1/cases", params={"team": "wot-west"}, headers=NOORD_WORKER
    )
    assert listed.json()["items"] == [] and listed.json()["total"] == 0
    analyst = await api.client.get(f"/api/v1/cases/{case_id}", headers=token_for("an", "analyst"))
    assert problem(analyst)["status"] == 403


async def test_a_decision_on_a_stale_version_is_a_conflict_and_changes_nothing(
    api, amqp_connection
):
    case = await api.open_case(amqp_connection)
    case = (await api.assign(case, "w-west")).json()
    stale = dict(case)
    case = (await api.move(case, "screening")).json()
    refused = problem(await api.move(stale, "active", as_=WEST_COLLEAGUE))
    assert refused["status"] == 409
    assert refused["type"] == "urn:buurtsignaal:problem:version-conflict"
    assert refused["errors"][0]["field"] == "version"
    assert f"version {case['version']}" in refused["detail"]
    now = await api.case(case["id"])
    assert (now["status"], now["version"]) == ("screening", case["version"])
    missing = problem(
        await api.client.post(
            f"/api/v1/cases/{case['id']}/status", json={"status": "on-hold"}, headers=WEST_WORKER
        )
    )
    assert missing["status"] == 422 and missing["errors"][0]["field"] == "version"


async def test_of_two_concurrent_decisions_one_wins_and_the_other_gets_409(api, amqp_connection):
    case = await api.open_case(amqp_connection)
    case = (await api.assign(case, "w-west")).json()
    on_hold, closed = await asyncio.gather(
        api.move(case, "on-hold"),
        api.move(case, "closed", as_=WEST_COLLEAGUE, outcome="moved-away"),
    )
    assert sorted([on_hold.status_code, closed.status_code]) == [200, 409]
    loser = on_hold if on_hold.status_code == 409 else closed
    assert problem(loser)["type"] == "urn:buurtsignaal:problem:version-conflict"
    final = await api.case(case["id"])
    assert final["version"] == case["version"] + 1
    assert final["status"] == ("on-hold" if on_hold.status_code == 200 else "closed")


async def test_a_retried_decision_with_its_idempotency_key_answers_the_same(api, amqp_connection):
    case = await api.open_case(amqp_connection)
    case = (await api.assign(case, "w-west")).json()
    body = {"status": "active", "version": case["version"]}
    headers = {**WEST_WORKER, "Idempotency-Key": "move-1"}
    first = await api.client.post(f"/api/v1/cases/{case['id']}/status", json=body, headers=headers)
    again = await api.client.post(f"/api/v1/cases/{case['id']}/status", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert (await api.case(case["id"]))["version"] == case["version"] + 1


async def test_lists_filter_by_team_programme_status_and_overdue_and_paginate(api):
    # Cases put straight into the database, in the west team.
    seeded = [
        await api.seed(CaseStatus.ACTIVE, Programme.EARLY_SIGNALLING),
        await api.seed(CaseStatus.ASSIGNED, Programme.INTENSIVE_YOUTH_WORK),
        await api.seed(CaseStatus.ASSIGNED, Programme.EARLY_SIGNALLING),
    ]

    async def listed(as_, **params):
        response = await api.client.get("/api/v1/cases", params=params, headers=as_)
        assert response.status_code == 200, response.text
        return response.json()

    everything = await listed(AREA_MANAGER_WEST, limit=100)
    assert {c["id"] for c in seeded} <= {c["id"] for c in everything["items"]}
    assert everything["total"] == len(everything["items"])
    assigned_early = await listed(
        WEST_WORKER, programme="early-signalling", status="assigned", team="wot-west"
    )
    assert [c["id"] for c in assigned_early["items"]] == [seeded[2]["id"]]
    two_statuses = await listed(WEST_WORKER, status=["active", "assigned"])
    assert two_statuses["total"] == 3
    # The seeded signals were received on 3 November 2026: every first contact is overdue.
    overdue = await listed(WEST_WORKER, overdue="true")
    assert overdue["total"] == 3 and all(c["overdue"] for c in overdue["items"])
    assert (await listed(WEST_WORKER, overdue="false"))["total"] == 0
    pages = [await listed(WEST_WORKER, offset=i, limit=1) for i in range(3)]
    assert [p["items"][0]["id"] for p in pages] == [c["id"] for c in reversed(seeded)], (
        "newest first"
    )
    assert {p["total"] for p in pages} == {3}
    assert (await listed(NOORD_WORKER))["total"] == 0
    bad = problem(
        await api.client.get("/api/v1/cases", params={"status": "pending"}, headers=WEST_WORKER)
    )
    assert bad["status"] == 422 and bad["errors"][0]["field"] == "query.status.0"


async def test_an_offset_beyond_any_list_is_refused_naming_the_field(api):
    # Found by fuzzing: an offset past 64 bits reached the database and was a 500.
    for offset in (10**20, 1_000_001):
        answer = await api.client.get(
            "/api/v1/cases", params={"offset": offset}, headers=WEST_WORKER
        )
        bad = problem(answer)
        assert bad["status"] == 422 and bad["errors"][0]["field"] == "query.offset"
    last_page = await api.client.get(
        "/api/v1/cases", params={"offset": 1_000_000}, headers=WEST_WORKER
    )
    assert last_page.status_code == 200 and last_page.json()["items"] == []
