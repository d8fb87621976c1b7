"""Partner webhooks to a real HTTP receiver on loopback: subscriptions through the admin API,
filters, need-to-know, signatures, retries with backoff, dead letters, exactly one effect."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time

import pytest

from buurtsignaal_contracts import new_event
from buurtsignaal_contracts.codes import Programme
from notifications_service.delivery_worker import DeliveryWorker
from servicekit.testing import eventually, token_for
from servicekit.testing.event_factories import (
    case_assigned,
    match_participant,
    signal_matched,
)
from servicekit.testing.events import case_opened, publish
from servicekit.testing.tap import EventTap

pytestmark = pytest.mark.integration

ADMIN = token_for("admin-1", "admin")
SENT = "nl.buurtsignaal.notifications.notification-sent.v1"


async def subscribe(service, partner: str, url: str, *channels: dict, **extra) -> dict:
    body = {"partner": partner, "callback_url": url, "channels": list(channels)}
    response = await service.client.post(
        "/api/v1/webhook-subscriptions", json=body, headers={**ADMIN, **extra}
    )
    assert response.status_code == 201, response.text
    return response.json()


def signed_correctly(secret: str, headers: dict, body: bytes) -> bool:
    """A receiver's own check, written from the Standard Webhooks description."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, headers["webhook-signature"])


async def webhook_deliveries(service) -> list[dict]:
    return await service.db.deliveries.find({"channel": "webhook"}).sort("created_at", 1).to_list()


async def settled(service) -> list[dict]:
    return await eventually(
        lambda: webhook_deliveries(service),
        lambda ds: bool(ds) and all(d["status"] != "pending" for d in ds),
        what="the webhook deliveries settled",
    )


async def test_a_match_reaches_the_subscribed_organisation_signed_and_informatie_arm(
    notifications, webhook_receiver, amqp_connection
):
    school = await subscribe(
        notifications,
        "obs-de-singel",
        webhook_receiver.url("/school"),
        {"name": "signals", "event_types": ["signal-matched"]},
    )
    assert school["secret"].startswith("whsec_")
    # Another school subscribed to every match it may hear: it is not in this one.
    await subscribe(
        notifications, "obs-het-anker", webhook_receiver.url("/other"), {"name": "signals"}
    )
    school_part = match_participant("obs-de-singel", "r-school")
    match = signal_matched(
        participants=[school_part, match_participant("politie-schiedam", "r-police")]
    )
    event = new_event(match)
    async with EventTap(amqp_connection) as tap:
        await publish(amqp_connection, event)
        (sent,) = await tap.wait_for(SENT, where=lambda e: e["data"]["channel"] == "webhook")
    (call,) = await eventually(lambda: _now(webhook_receiver.received), what="the webhook")

    assert call.path == "/school"
    assert signed_correctly(school["secret"], call.headers, call.body)
    assert abs(int(call.headers["webhook-timestamp"]) - time.time()) < 60
    (delivery,) = await webhook_deliveries(notifications)
    assert call.headers["webhook-id"] == delivery["_id"]
    payload = call.json()
    assert payload == {
        "id": delivery["_id"],
        "channel": "signals",
        "event_type": "signal-matched",
        "event_id": str(event.id),
        "resource": "match",
        "resource_id": str(match.match_id),
        "resource_url": f"https://buurtsignaal.schiedam.example/matches/{match.match_id}",
        "created_at": payload["created_at"],
        "attributes": {
            "organisation": ["obs-de-singel", "politie-schiedam"],
            "household": False,
            "signal_id": [str(school_part.signal_id)],
        },
        "subscription_id": school["id"],
    }
    assert match.person not in call.body.decode(), "not even the pseudonym leaves"
    assert sent["data"]["recipient_kind"] == "partner"
    assert sent["data"]["recipient"] == "obs-de-singel"
    assert webhook_receiver.at("/other") == []


async def test_filters_on_attributes_choose_what_a_subscription_hears(
    notifications, webhook_receiver, amqp_connection
):
    await subscribe(
        notifications,
        "gemeente-schiedam",
        webhook_receiver.url("/intensive"),
        {
            "name": "cases",
            "event_types": ["case-opened"],
            "filters": {"programme": "intensive-youth-work", "district": "west"},
        },
    )
    intensive_west = case_opened(programme=Programme.INTENSIVE_YOUTH_WORK)
    await publish(
        amqp_connection,
        new_event(case_opened()),  # another programme
        new_event(
            case_opened(programme=Programme.INTENSIVE_YOUTH_WORK, district="oost", team="wot-oost")
        ),
        new_event(case_assigned(programme=Programme.INTENSIVE_YOUTH_WORK)),  # another type
        new_event(intensive_west),
    )
    (call,) = await eventually(lambda: _now(webhook_receiver.received), what="one webhook")
    assert call.json()["resource_id"] == str(intensive_west.case_id)
    assert call.json()["attributes"] == {
        "team": "wot-west",
        "programme": "intensive-youth-work",
        "district": "west",
        "priority": "normal",
    }
    await eventually(
        lambda: notifications.db.notifications.count_documents({}),
        lambda n: n >= 4,
        what="all four events handled",
    )
    await notifications.runtime.get(DeliveryWorker).run_until_idle()
    assert len(webhook_receiver.received) == 1


async def test_a_receiver_that_fails_twice_gets_it_on_the_third_attempt_once(
    notifications, webhook_receiver, amqp_connection
):
    subscription = await subscribe(
        notifications, "obs-de-singel", webhook_receiver.url(), {"name": "signals"}
    )
    webhook_receiver.answers = [503, 500]  # then the default 204
    event = new_event(signal_matched())
    await publish(amqp_connection, event)
    (delivery,) = await settled(notifications)

    assert delivery["status"] == "sent"
    assert [(a["outcome"], a["status_code"]) for a in delivery["attempts"]] == [
        ("failed", 503),
        ("failed", 500),
        ("sent", 204),
    ]
    first, second, third = (a["at"] for a in delivery["attempts"])
    assert (second - first).total_seconds() >= 0.05 and (third - second).total_seconds() >= 0.1, (
        "the retries wait their turn on the schedule"
    )
    assert webhook_receiver.answered == [503, 500, 204]
    ids = {r.headers["webhook-id"] for r in webhook_receiver.received}
    assert ids == {delivery["_id"]}, "the same webhook-id on every attempt"
    assert all(
        signed_correctly(subscription["secret"], r.headers, r.body)
        for r in webhook_receiver.received
    )

    # The same event delivered again by the broker: no second webhook.
    await publish(amqp_connection, event)
    await eventually(lambda: _duplicates(notifications), lambda n: n >= 1, what="copy ignored")
    await notifications.runtime.get(DeliveryWorker).run_until_idle()
    assert len(webhook_receiver.received) == 3
    assert len(await webhook_deliveries(notifications)) == 1


async def test_a_slow_partner_holds_one_delivery_not_the_e_mails_behind_it(
    notifications, webhook_receiver, smtp_server, amqp_connection
):
    await subscribe(
        notifications, "obs-de-singel", webhook_receiver.url("/slow"), {"name": "signals"}
    )
    webhook_receiver.holds["/slow"] = asyncio.Event()
    await publish(amqp_connection, new_event(signal_matched()))
    await eventually(lambda: _now(webhook_receiver.at("/slow")), what="the webhook under way")

    await publish(amqp_connection, new_event(case_assigned(worker="w-west-1")))
    await eventually(
        lambda: _now(smtp_server.to("w-west-1@buurtsignaal.schiedam.example")),
        what="a later e-mail sent while the partner is still answering",
    )
    (pending,) = await webhook_deliveries(notifications)
    assert pending["status"] == "pending" and pending["attempts"] == []

    webhook_receiver.holds["/slow"].set()
    (delivery,) = await settled(notifications)
    assert delivery["status"] == "sent" and len(delivery["attempts"]) == 1


async def test_a_receiver_that_never_answers_well_ends_dead_and_counted(
    notifications, webhook_receiver, amqp_connection
):
    await subscribe(notifications, "obs-de-singel", webhook_receiver.url(), {"name": "signals"})
    webhook_receiver.always = 502
    await publish(amqp_connection, new_event(signal_matched()))
    (delivery,) = await settled(notifications)
    assert delivery["status"] == "dead"
    assert len(delivery["attempts"]) == 4, "1 + the 3 retries of the test schedule"
    dead = 'buurtsignaal_notification_dead_letters_total{channel="webhook"} 1.0'
    # The worker counts right after it commits the delivery's last state: wait for it.
    metrics = await eventually(
        lambda: _metrics_text(notifications), lambda text: dead in text, what="counted dead"
    )
    assert 'buurtsignaal_notification_retries_total{channel="webhook"} 3.0' in metrics
    assert 'buurtsignaal_notification_attempts_failed_total{channel="webhook"} 4.0' in metrics


async def test_a_partner_saying_gone_is_not_retried_and_a_deleted_subscription_gets_nothing(
    notifications, webhook_receiver, amqp_connection
):
    gone = await subscribe(
        notifications, "obs-de-singel", webhook_receiver.url("/gone"), {"name": "signals"}
    )
    webhook_receiver.answers = [410]
    await publish(amqp_connection, new_event(signal_matched()))
    (delivery,) = await settled(notifications)
    assert delivery["status"] == "dead" and len(delivery["attempts"]) == 1

    deleted = await notifications.client.delete(
        f"/api/v1/webhook-subscriptions/{gone['id']}", headers=ADMIN
    )
    assert deleted.status_code == 204
    await publish(amqp_connection, new_event(signal_matched()))
    await eventually(
        lambda: notifications.db.inbox.count_documents({}), lambda n: n >= 2, what="2nd handled"
    )
    assert len(await webhook_deliveries(notifications)) == 1, "no subscription, no delivery"


async def test_subscriptions_are_managed_by_admins_and_validated(notifications, webhook_receiver):
    worker = token_for("w-west-1", "worker", teams=["wot-west"])
    body = {
        "partner": "obs-de-singel",
        "callback_url": webhook_receiver.url(),
        "channels": [{"name": "signals"}],
    }
    assert (
        await notifications.client.post("/api/v1/webhook-subscriptions", json=body, headers=worker)
    ).status_code == 403
    bad = {
        **body,
        "channels": [{"name": "signals", "event_types": ["case-opened"], "filters": {"x": "y"}}],
    }
    refused = await notifications.client.post(
        "/api/v1/webhook-subscriptions", json=bad, headers=ADMIN
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "channels.0"
    not_a_url = {**body, "callback_url": "ftp://partner.example/x"}
    refused = await notifications.client.post(
        "/api/v1/webhook-subscriptions", json=not_a_url, headers=ADMIN
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "callback_url"
    assert await notifications.db.webhook_subscriptions.count_documents({}) == 0

    keyed = {**ADMIN, "Idempotency-Key": "partner-onboarding-1"}
    first = await notifications.client.post(
        "/api/v1/webhook-subscriptions", json=body, headers=keyed
    )
    assert first.status_code == 201
    created = first.json()
    assert first.headers["location"] == f"/api/v1/webhook-subscriptions/{created['id']}"
    replay = await notifications.client.post(
        "/api/v1/webhook-subscriptions", json=body, headers=keyed
    )
    assert replay.json()["id"] == created["id"] and replay.json()["secret"] is None, (
        "a replay does not show the secret again"
    )
    stored = await notifications.db.webhook_subscriptions.find_one({"_id": created["id"]})
    assert created["secret"].encode() not in bytes(stored["sealed_secret"])
    assert created["secret"] not in str(await notifications.db.idempotency_keys.find().to_list())

    listed = await notifications.client.get("/api/v1/webhook-subscriptions", headers=ADMIN)
    assert [s["id"] for s in listed.json()["items"]] == [created["id"]]
    assert "secret" not in listed.json()["items"][0]
    off = await notifications.client.patch(
        f"/api/v1/webhook-subscriptions/{created['id']}", json={"active": False}, headers=ADMIN
    )
    assert off.json()["active"] is False
    rotated = await notifications.client.post(
        f"/api/v1/webhook-subscriptions/{created['id']}/secret", headers=ADMIN
    )
    assert rotated.json()["secret"] != created["secret"]


async def _now(value):
    return value


async def _duplicates(service) -> float:
    metrics = (await service.client.get("/metrics")).text
    prefix = "buurtsignaal_events_duplicate_ignored_total"
    return sum(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith(prefix))


async def _metrics_text(notifications) -> str:
    return (await notifications.client.get("/metrics")).text
