"""Reads limited to what the caller may see; case workers read through their cases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from buurtsignaal_contracts import new_event
from buurtsignaal_contracts.codes import CaseOutcome, Programme, ReopenReason
from buurtsignaal_contracts.events import CaseAssigned, CaseClosed, CaseReopened
from servicekit.testing import eventually, token_for
from servicekit.testing.events import case_opened, publish
from signals_service.testing import signal_body, synthetic_bsn, youth

pytestmark = pytest.mark.integration

SCHOOL = token_for("r-school", "reporter", org="obs-de-singel")
POLICE = token_for("p-wijkagent", "reporter", org="politie-schiedam")
WEST_WORKER = token_for("w-west-1", "worker", teams=["wot-west"])
OOST_WORKER = token_for("w-oost-1", "worker", teams=["wot-oost"])
WEST_MANAGER = token_for("am-west", "area-manager", teams=["wot-west"])
ANALYST = token_for("an-1", "analyst")
T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def report(service, headers, person, **changes) -> dict:
    response = await service.client.post(
        "/api/v1/signals", json=signal_body(person, **changes), headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def facts(case_id: uuid.UUID, team: str = "wot-west") -> dict:
    return {
        "case_id": case_id,
        "team": team,
        "programme": Programme.EARLY_SIGNALLING,
        "district": "west",
    }


async def status_of(service, signal_id: str, headers) -> int:
    return (await service.client.get(f"/api/v1/signals/{signal_id}", headers=headers)).status_code


async def test_the_team_holding_the_case_reads_the_signals_of_its_person(signals, amqp_connection):
    school = await report(signals, SCHOOL, youth())
    police = await report(signals, POLICE, youth(), source_type="police")
    stranger = await report(signals, POLICE, youth(bsn=synthetic_bsn(5)), source_type="police")
    assert await status_of(signals, school["id"], WEST_WORKER) == 404, "no case yet"

    case_id = uuid.uuid4()
    opened = case_opened(
        case_id=case_id, person=school["person"], signal_id=uuid.UUID(school["id"])
    )
    await publish(amqp_connection, new_event(opened))
    read = await eventually(
        lambda: signals.client.get(f"/api/v1/signals/{police['id']}", headers=WEST_WORKER),
        lambda r: r.status_code == 200,
        what="the case worker's access",
    )
    assert read.json()["description"].startswith("Synthetisch"), "the case needs the content"
    assert await status_of(signals, school["id"], WEST_MANAGER) == 200
    assert await status_of(signals, school["id"], OOST_WORKER) == 404, "another team"
    assert await status_of(signals, stranger["id"], WEST_WORKER) == 404, "not their case"
    assert await status_of(signals, school["id"], ANALYST) == 403, "analysts see aggregates"

    listed = (await signals.client.get("/api/v1/signals", headers=WEST_WORKER)).json()
    assert {s["id"] for s in listed["items"]} == {school["id"], police["id"]}
    audit = await signals.db.audit_log.find({"user": "w-west-1"}).to_list()
    assert {(a["action"], a["activity"]) for a in audit} == {
        ("read", "casework"),
        ("read", "signal-overview"),
    }
    listed_records = [a for a in audit if a["activity"] == "signal-overview"]
    assert len(listed_records) == 2, "one record per signal listed"


async def test_a_closed_case_ends_the_access_and_a_reopened_one_restores_it(
    signals, amqp_connection
):
    created = await report(signals, SCHOOL, youth())
    case_id = uuid.uuid4()
    await publish(
        amqp_connection,
        new_event(case_opened(case_id=case_id, person=created["person"], opened_at=T)),
    )
    await eventually(lambda: status_of(signals, created["id"], WEST_WORKER), lambda s: s == 200)

    closed = CaseClosed(
        **facts(case_id),
        outcome=CaseOutcome.RESOLVED,
        closed_by="w-west-1",
        closed_at=T + timedelta(days=30),
        opened_at=T,
        first_signal_at=T,
    )
    await publish(amqp_connection, new_event(closed))
    await eventually(lambda: status_of(signals, created["id"], WEST_WORKER), lambda s: s == 404)

    reopened = CaseReopened(
        **facts(case_id), reason=ReopenReason.NEW_SIGNAL, reopened_at=T + timedelta(days=40)
    )
    await publish(amqp_connection, new_event(reopened))
    await eventually(lambda: status_of(signals, created["id"], WEST_WORKER), lambda s: s == 200)

    moved = CaseAssigned(
        **facts(case_id, "wot-oost"), worker="w-oost-1", assigned_by="am-oost", assigned_at=T
    )
    await publish(amqp_connection, new_event(moved))
    await eventually(lambda: status_of(signals, created["id"], OOST_WORKER), lambda s: s == 200)
    assert await status_of(signals, created["id"], WEST_WORKER) == 404


async def test_a_late_close_does_not_undo_a_later_reopen(signals, amqp_connection):
    created = await report(signals, SCHOOL, youth())
    case_id = uuid.uuid4()
    reopened = CaseReopened(
        **facts(case_id), reason=ReopenReason.NEW_SIGNAL, reopened_at=T + timedelta(days=40)
    )
    closed = CaseClosed(
        **facts(case_id),
        outcome=CaseOutcome.RESOLVED,
        closed_by="w-west-1",
        closed_at=T + timedelta(days=30),
        opened_at=T,
        first_signal_at=T,
    )
    opened = case_opened(case_id=case_id, person=created["person"], opened_at=T)
    await publish(amqp_connection, new_event(opened), new_event(reopened), new_event(closed))
    await eventually(
        lambda: signals.db.inbox.count_documents({"type": {"$regex": r"\.cases\."}}),
        lambda n: n == 3,
        what="all three handled",
    )
    assert await status_of(signals, created["id"], WEST_WORKER) == 200


async def test_lists_filter_by_person_and_status_and_page_through(signals):
    first = await report(signals, SCHOOL, youth())
    for _ in range(2):
        await report(signals, SCHOOL, youth(bsn=synthetic_bsn(11)))
    await signals.client.post(
        f"/api/v1/signals/{first['id']}/withdrawal", json={"reason": "resolved"}, headers=SCHOOL
    )
    by_person = await signals.client.get(
        "/api/v1/signals", params={"person": first["person"]}, headers=SCHOOL
    )
    assert [s["id"] for s in by_person.json()["items"]] == [first["id"]]
    active = await signals.client.get(
        "/api/v1/signals", params={"status": "active"}, headers=SCHOOL
    )
    assert first["id"] not in [s["id"] for s in active.json()["items"]]
    assert len(active.json()["items"]) == 2
    withdrawn = await signals.client.get(
        "/api/v1/signals", params={"status": "withdrawn"}, headers=SCHOOL
    )
    assert [s["status"] for s in withdrawn.json()["items"]] == ["withdrawn"]
    bad = await signals.client.get("/api/v1/signals", params={"person": "Jan"}, headers=SCHOOL)
    assert bad.status_code == 422
    nothing = await signals.client.get("/api/v1/signals", headers=OOST_WORKER)
    assert nothing.json() == {"items": [], "next_cursor": None}
