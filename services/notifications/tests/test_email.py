"""E-mail through a real SMTP server (aiosmtpd on loopback): once, in Dutch, links and codes
only, retried on temporary refusals and given up on permanent ones, every attempt recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from buurtsignaal_contracts import new_event
from buurtsignaal_contracts.codes import Escalation
from notifications_service.app import definition
from notifications_service.delivery_worker import DeliveryWorker
from notifications_service.store.deliveries import DeliveryQueue
from servicekit.testing import eventually, token_for
from servicekit.testing.event_factories import case_assigned, deadline_breached
from servicekit.testing.events import case_opened, publish
from servicekit.testing.service import running_service
from servicekit.testing.tap import EventTap

pytestmark = pytest.mark.integration

WORKER_MAIL = "w-west-1@buurtsignaal.schiedam.example"
SENT = "nl.buurtsignaal.notifications.notification-sent.v1"


async def deliveries(service, **query) -> list[dict]:
    return await service.db.deliveries.find(query).sort("created_at", 1).to_list()


async def settled(service) -> list[dict]:
    """Every delivery has reached its final state (no pending ones left)."""

    async def probe() -> list[dict]:
        return await deliveries(service)

    return await eventually(
        probe, lambda ds: bool(ds) and all(d["status"] != "pending" for d in ds), what="settled"
    )


async def metric(service, name: str, channel: str) -> float:
    text = (await service.client.get("/metrics")).text
    prefix = f'{name}{{channel="{channel}"}}'
    line = next((row for row in text.splitlines() if row.startswith(prefix)), None)
    return float(line.split()[-1]) if line else 0.0


async def test_an_assigned_worker_gets_one_dutch_email_with_a_link_and_no_personal_data(
    notifications, smtp_server, amqp_connection
):
    assigned = case_assigned(worker="w-west-1", assigned_by="am-02")
    event = new_event(assigned)
    async with EventTap(amqp_connection) as tap:
        await publish(amqp_connection, event)
        (sent,) = await tap.wait_for(SENT, where=lambda e: e["data"]["channel"] == "email")
    (message,) = await eventually(lambda: _async(smtp_server.to(WORKER_MAIL)), what="the e-mail")

    assert message["Subject"] == "Casus aan u toegewezen: Vroegsignalering, wijk West"
    assert message["Auto-Submitted"] == "auto-generated"
    body = smtp_server.text(message)
    assert "Beste collega," in body and "toegewezen aan een casus" in body
    link = f"https://buurtsignaal.schiedam.example/cases/{assigned.case_id}"
    assert link in body and f'href="{link}"' in smtp_server.html(message)
    assert "ps-" not in body, "no pseudonym either: the link is enough"

    (delivery,) = await deliveries(notifications)
    assert message["Message-ID"] == f"<{delivery['_id']}@buurtsignaal>"
    assert delivery["status"] == "sent" and len(delivery["attempts"]) == 1
    assert sent["data"] == {
        **sent["data"],
        "notification_id": delivery["_id"],
        "recipient_kind": "user",
        "recipient": "w-west-1",
        "cause_event_id": str(event.id),
    }
    assert WORKER_MAIL not in str(sent), "events name the account, never the address"
    assert await metric(notifications, "buurtsignaal_notifications_sent_total", "email") == 1


async def test_a_redelivered_event_sends_no_second_email(
    notifications, smtp_server, amqp_connection
):
    event = new_event(case_assigned(worker="w-west-1"))
    await publish(amqp_connection, event)
    await eventually(lambda: _async(smtp_server.to(WORKER_MAIL)), what="the first e-mail")
    await publish(amqp_connection, event)
    await publish(amqp_connection, event)
    await eventually(
        lambda: _duplicates(notifications), lambda n: n >= 2, what="both copies ignored"
    )
    await notifications.runtime.get(DeliveryWorker).run_until_idle()
    assert len(smtp_server.received) == 1
    assert await notifications.db.deliveries.count_documents({}) == 1


async def test_temporary_refusals_are_retried_and_every_attempt_is_recorded(
    notifications, smtp_server, amqp_connection
):
    smtp_server.fail_next("451 4.3.0 try again later", "421 4.3.2 busy")
    await publish(amqp_connection, new_event(case_assigned(worker="w-west-1")))
    (delivery,) = await settled(notifications)
    assert delivery["status"] == "sent"
    assert [a["outcome"] for a in delivery["attempts"]] == ["failed", "failed", "sent"]
    assert [a["status_code"] for a in delivery["attempts"][:2]] == [451, 421]
    assert [a["number"] for a in delivery["attempts"]] == [1, 2, 3]
    assert len(smtp_server.to(WORKER_MAIL)) == 1
    assert (
        await metric(notifications, "buurtsignaal_notification_attempts_failed_total", "email") == 2
    )
    assert await metric(notifications, "buurtsignaal_notification_retries_total", "email") == 2
    assert await metric(notifications, "buurtsignaal_notifications_sent_total", "email") == 1


async def test_a_permanent_refusal_is_not_retried(notifications, smtp_server, amqp_connection):
    smtp_server.fail_next("550 5.1.1 mailbox unavailable")
    await publish(amqp_connection, new_event(case_assigned(worker="w-west-1")))
    (delivery,) = await settled(notifications)
    assert delivery["status"] == "dead" and len(delivery["attempts"]) == 1
    assert delivery["attempts"][0]["outcome"] == "refused"
    assert smtp_server.received == []
    assert await metric(notifications, "buurtsignaal_notification_dead_letters_total", "email") == 1


async def test_when_retries_run_out_the_delivery_is_dead_until_an_admin_sends_it_again(
    notifications, smtp_server, amqp_connection
):
    smtp_server.fail_next(*["451 4.3.0 later"] * 3)  # the schedule allows 3 attempts
    await publish(amqp_connection, new_event(case_assigned(worker="w-west-1")))
    (delivery,) = await settled(notifications)
    assert delivery["status"] == "dead" and len(delivery["attempts"]) == 3

    admin = token_for("admin-1", "admin")
    dead = await notifications.client.get(
        "/api/v1/deliveries", params={"status": "dead"}, headers=admin
    )
    assert [d["id"] for d in dead.json()["items"]] == [delivery["_id"]]
    assert [a["outcome"] for a in dead.json()["items"][0]["attempts"]] == ["failed"] * 3
    again = await notifications.client.post(
        f"/api/v1/deliveries/{delivery['_id']}/retry", headers=admin
    )
    assert again.status_code == 202, again.text
    (delivery,) = await settled(notifications)
    assert delivery["status"] == "sent" and len(delivery["attempts"]) == 4
    assert len(smtp_server.to(WORKER_MAIL)) == 1
    refused = await notifications.client.post(
        f"/api/v1/deliveries/{delivery['_id']}/retry", headers=admin
    )
    assert refused.status_code == 409
    worker = token_for("w-west-1", "worker", teams=["wot-west"])
    forbidden = await notifications.client.get("/api/v1/deliveries", headers=worker)
    assert forbidden.status_code == 403


async def test_the_team_mailbox_hears_of_a_new_case_and_escalations_reach_the_area_manager(
    notifications, smtp_server, amqp_connection
):
    await publish(
        amqp_connection,
        new_event(case_opened(team="wot-noord", district="noord")),
        new_event(
            deadline_breached(
                team="wot-noord",
                district="noord",
                escalation=Escalation.AREA_MANAGER,
                worker="w-noord-1",
            )
        ),
    )
    await eventually(lambda: _async(smtp_server.received), lambda r: len(r) == 2, what="2 mails")
    (team,) = smtp_server.to("wot-noord@buurtsignaal.schiedam.example")
    assert team["Subject"].startswith("Nieuwe casus voor WOT Noord")
    (manager,) = smtp_server.to("am-04@buurtsignaal.schiedam.example")
    assert manager["Subject"] == "Termijn verstreken in WOT Noord: het eerste contact"
    assert "10 november 2026" in smtp_server.text(manager)
    assert smtp_server.to("w-noord-1@buurtsignaal.schiedam.example") == [], (
        "the worker is told in-app of the escalation, not mailed again"
    )


async def _async(value):
    return value


async def _duplicates(service) -> float:
    metrics = (await service.client.get("/metrics")).text
    prefix = "buurtsignaal_events_duplicate_ignored_total"
    return sum(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith(prefix))


async def test_a_claim_of_a_stalled_worker_runs_out_and_the_delivery_goes_out_once(
    make_settings, smtp_server, amqp_connection
):
    settings = make_settings(
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        delivery_poll_interval=300,  # the service's own worker stays out of the way
        delivery_lease_seconds=0.5,
    )
    async with running_service(definition(settings)) as service:
        await publish(amqp_connection, new_event(case_assigned(worker="w-west-1")))
        await eventually(lambda: deliveries(service), what="the delivery recorded")
        clock = service.runtime.clock
        # A worker claims it and stalls before sending.
        (crashed,) = await DeliveryQueue(service.db).claim_due(
            clock.now(), timedelta(seconds=30), 10
        )
        worker = service.runtime.get(DeliveryWorker)
        assert await worker.run_until_idle() == 0, "leased: nobody else takes it"

        await service.db.deliveries.update_one(  # let the lease run out now
            {"_id": str(crashed[0].id)}, {"$set": {"next_attempt_at": clock.now()}}
        )
        assert await worker.run_until_idle() == 1
        assert len(smtp_server.to(WORKER_MAIL)) == 1
        # The stalled worker comes back: its claim is gone, so it sends nothing.
        await worker.process(*crashed)
        assert len(smtp_server.to(WORKER_MAIL)) == 1
        (delivery,) = await deliveries(service)
        assert delivery["status"] == "sent" and len(delivery["attempts"]) == 1
