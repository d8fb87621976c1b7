"""The in-app inbox: the right people see the right items, once, and read them per person."""

from __future__ import annotations

import pytest

from buurtsignaal_contracts import new_event
from buurtsignaal_contracts.codes import Priority
from servicekit.testing import eventually, token_for
from servicekit.testing.event_factories import case_assigned, case_closed, screening_completed
from servicekit.testing.events import case_opened, publish
from servicekit.testing.tap import EventTap

pytestmark = pytest.mark.integration

WEST = token_for("w-west", "worker", teams=["wot-west"])
WEST_TOO = token_for("w-west-2", "worker", teams=["wot-west", "wot-oost"])
NOORD = token_for("w-noord", "worker", teams=["wot-noord"])
SENT = "nl.buurtsignaal.notifications.notification-sent.v1"


async def inbox(service, headers, **params) -> list[dict]:
    return (await inbox_page(service, headers, **params))["items"]


async def inbox_page(service, headers, **params) -> dict:
    response = await service.client.get("/api/v1/inbox", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_team_is_told_of_a_new_case_once(notifications, amqp_connection):
    event = new_event(case_opened(priority=Priority.HIGH))
    async with EventTap(amqp_connection) as tap:
        await publish(amqp_connection, event)
        await publish(amqp_connection, event)  # redelivered: still one notification
        (sent,) = await tap.wait_for(SENT, where=lambda e: e["data"]["channel"] == "in-app")
    (item,) = await eventually(lambda: inbox(notifications, WEST), what="the inbox item")
    assert item["title"] == "Nieuwe casus voor WOT West: Vroegsignalering, wijk West"
    assert "met hoge prioriteit" in item["message"]
    assert item["link"] == f"/cases/{event.data.case_id}"
    assert item["topic"] == "case-opened" and item["read"] is False
    assert sent["data"]["recipient"] == "wot-west" and sent["data"]["recipient_kind"] == "team"
    assert sent["data"]["cause_event_id"] == str(event.id)
    assert await inbox(notifications, NOORD) == []
    assert len(await inbox(notifications, WEST_TOO)) == 1
    await eventually(
        lambda: _duplicates(notifications), lambda n: n >= 1, what="the copy being ignored"
    )
    assert await notifications.db.notifications.count_documents({}) == 1


async def test_reading_is_per_person_and_only_for_recipients(notifications, amqp_connection):
    await publish(amqp_connection, new_event(case_opened()))
    (item,) = await eventually(lambda: inbox(notifications, WEST), what="the inbox item")
    refused = await notifications.client.post(f"/api/v1/inbox/{item['id']}/read", headers=NOORD)
    assert refused.status_code == 404
    done = await notifications.client.post(f"/api/v1/inbox/{item['id']}/read", headers=WEST)
    assert done.status_code == 204
    assert await inbox(notifications, WEST, unread="true") == []
    assert (await inbox_page(notifications, WEST))["unread"] == 0
    assert len(await inbox(notifications, WEST_TOO, unread="true")) == 1, (
        "a colleague has not read it"
    )
    assert (await inbox_page(notifications, WEST_TOO))["unread"] == 1


async def test_everything_can_be_marked_read_at_once(notifications, amqp_connection):
    await publish(amqp_connection, new_event(case_opened()), new_event(case_opened()))
    await eventually(lambda: inbox(notifications, WEST), lambda items: len(items) == 2)
    marked = await notifications.client.post("/api/v1/inbox/read", headers=WEST)
    assert marked.json() == {"marked": 2}
    assert (await inbox_page(notifications, WEST))["unread"] == 0
    assert (await inbox_page(notifications, WEST_TOO))["unread"] == 2


async def test_the_worker_hears_of_assignment_and_later_events_of_their_case(
    notifications, amqp_connection
):
    worker = token_for("w-west-1", "worker", teams=["wot-west"])
    manager = token_for("am-02", "area-manager", teams=["wot-west", "wot-zuid"])
    assigned = case_assigned(worker="w-west-1", assigned_by="am-02")
    case_id = assigned.case_id
    await publish(amqp_connection, new_event(assigned))
    (item,) = await eventually(lambda: inbox(notifications, worker), what="the assignment")
    assert item["topic"] == "case-assigned" and item["case_id"] == str(case_id)
    assert await inbox(notifications, manager) == [], "who assigned is not told of it"

    # Screening scored by someone else: the case's worker (learned from case-assigned)
    # and the area manager hear of it; closing by the area manager: the worker only.
    await publish(
        amqp_connection,
        new_event(screening_completed(case_id=case_id, completed_by="w-west-2")),
        new_event(case_closed(case_id=case_id, closed_by="am-02")),
    )
    topics = await eventually(
        lambda: _topics(notifications, worker), lambda t: len(t) == 3, what="three items"
    )
    assert sorted(topics) == ["case-assigned", "case-closed", "screening-completed"]
    assert await _topics(notifications, manager) == ["screening-completed"]


async def _topics(service, headers) -> list[str]:
    return [i["topic"] for i in await inbox(service, headers)]


async def _duplicates(service) -> float:
    metrics = (await service.client.get("/metrics")).text
    prefix = "buurtsignaal_events_duplicate_ignored_total"
    return sum(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith(prefix))


async def test_an_offset_beyond_any_list_is_refused_naming_the_field(notifications):
    # Found by fuzzing: an offset past 64 bits reached the database and was a 500.
    admin = token_for("admin-1", "admin")
    for path, headers in (("/api/v1/inbox", WEST), ("/api/v1/deliveries", admin)):
        answer = await notifications.client.get(path, params={"offset": 10**20}, headers=headers)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["errors"][0]["field"] == "query.offset"
        last_page = await notifications.client.get(
            path, params={"offset": 1_000_000}, headers=headers
        )
        assert last_page.status_code == 200 and last_page.json()["items"] == []
