"""A new case reaches the in-app inbox of its team, and only that team."""

from __future__ import annotations

import pytest

from buurtsignaal_contracts import new_event
from buurtsignaal_contracts.codes import Programme
from notifications_service.messages import case_opened_title
from servicekit.testing import eventually, token_for
from servicekit.testing.events import case_opened, publish
from servicekit.testing.tap import EventTap

pytestmark = pytest.mark.integration

WEST = token_for("w-west", "worker", teams=["wot-west"])
WEST_TOO = token_for("w-west-2", "worker", teams=["wot-west", "wot-oost"])
NOORD = token_for("w-noord", "worker", teams=["wot-noord"])


async def inbox(service, headers, **params) -> list[dict]:
    return (await service.client.get("/api/v1/inbox", params=params, headers=headers)).json()[
        "items"
    ]


async def test_the_team_is_told_of_a_new_case_once(notifications, amqp_connection):
    event = new_event(case_opened())
    async with EventTap(amqp_connection) as tap:
        await publish(amqp_connection, event)
        await publish(amqp_connection, event)  # redelivered: still one notification
        (sent,) = await tap.wait_for("nl.buurtsignaal.notifications.notification-sent.v1")
    (item,) = await eventually(lambda: inbox(notifications, WEST), what="the inbox item")
    assert item["title"] == case_opened_title(Programme.EARLY_SIGNALLING, "west")
    assert item["link"] == f"/cases/{event.data.case_id}"
    assert sent["data"]["recipient"] == "wot-west" and sent["data"]["channel"] == "in-app"
    assert sent["data"]["cause_event_id"] == str(event.id)
    assert await inbox(notifications, NOORD) == []
    assert len(await inbox(notifications, WEST_TOO)) == 1
    assert await notifications.db.notifications.count_documents({}) == 1


async def test_reading_is_per_person_and_only_for_recipients(notifications, amqp_connection):
    await publish(amqp_connection, new_event(case_opened()))
    (item,) = await eventually(lambda: inbox(notifications, WEST), what="the inbox item")
    refused = await notifications.client.post(f"/api/v1/inbox/{item['id']}/read", headers=NOORD)
    assert refused.status_code == 404
    done = await notifications.client.post(f"/api/v1/inbox/{item['id']}/read", headers=WEST)
    assert done.status_code == 204
    assert await inbox(notifications, WEST, unread="true") == []
    assert len(await inbox(notifications, WEST_TOO, unread="true")) == 1, (
        "a colleague has not read it"
    )
