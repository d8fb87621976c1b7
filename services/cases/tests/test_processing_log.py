"""A case is about a person: every view of it and every change to it is audit-logged in
its own transaction, with a personal-data-processed event; a view whose record cannot
be written answers 503 and shows nothing."""

from __future__ import annotations

import json

import pytest
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure

from cases_service.testing import AREA_MANAGER_WEST, NOORD_WORKER, WEST_WORKER

pytestmark = pytest.mark.integration

PROCESSED = "nl.buurtsignaal.cases.personal-data-processed.v1"


async def records_of(api, person: str) -> list[tuple[str, str, str, str]]:
    found = await api.service.db.audit_log.find({"person": person}).sort("at", 1).to_list()
    return [(r["action"], r["activity"], r["user"], r["record"]) for r in found]


async def test_opening_viewing_and_changing_a_case_leave_records_and_events(api, amqp_connection):
    case = await api.open_case(amqp_connection)
    person, ref = case["person"], f"case:{case['id']}"
    assert (await records_of(api, person))[0] == ("create", "case-opening", "system", ref)

    await api.case(case["id"], WEST_WORKER)
    assigned = (await api.assign(case, "w-west")).json()
    await api.move(assigned, "active")
    timeline = await api.client.get(f"/api/v1/cases/{case['id']}/timeline", headers=WEST_WORKER)
    assert timeline.status_code == 200
    assert (
        await api.client.get(f"/api/v1/cases/{case['id']}", headers=NOORD_WORKER)
    ).status_code == 404

    records = await records_of(api, person)
    assert ("read", "casework", "w-west", ref) in records
    assert ("update", "casework", "am-02", ref) in records, "the assignment"
    assert ("update", "casework", "w-west", ref) in records, "the status change"
    assert all(user != "w-noord" for _, _, user, _ in records), "a refused look reads nothing"
    views = [r for r in await api.service.db.audit_log.find({"person": person}).to_list()]
    routes = {r["route"] for r in views if r["user"] == "w-west" and r["action"] == "read"}
    assert routes == {"GET:/api/v1/cases/{case_id}", "GET:/api/v1/cases/{case_id}/timeline"}

    events = [
        json.loads(r["body"])
        for r in await api.service.db.outbox.find({"type": PROCESSED}).to_list()
    ]
    mine = [e["data"] for e in events if e["data"]["person"] == person]
    assert len(mine) == len(records), "one event per record (one case per act here)"
    assert {(d["action"], d["user"]) for d in mine} >= {("update", "am-02"), ("read", "w-west")}
    assert all(set(d) >= {"categories", "confidentiality", "retention", "route"} for d in mine)


async def test_a_case_view_that_cannot_be_logged_answers_503_and_shows_nothing(
    api, amqp_connection, monkeypatch
):
    case = await api.open_case(amqp_connection)
    insert_many = AsyncCollection.insert_many

    async def audit_log_refuses(collection, documents, *args, **kwargs):
        if collection.name == "audit_log":
            raise OperationFailure("no space left for the audit log", 14031)
        return await insert_many(collection, documents, *args, **kwargs)

    monkeypatch.setattr(AsyncCollection, "insert_many", audit_log_refuses)
    view = await api.client.get(f"/api/v1/cases/{case['id']}", headers=WEST_WORKER)
    listed = await api.client.get("/api/v1/cases", headers=AREA_MANAGER_WEST)
    monkeypatch.undo()
    assert (view.status_code, listed.status_code) == (503, 503)
    assert case["person"] not in view.text + listed.text
    assert "team" not in view.json() and "items" not in listed.json()
    assert view.headers["content-type"].startswith("application/problem+json")
