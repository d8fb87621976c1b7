"""Done when: a match produces one inbox item and one e-mail per professional involved, and a
signed webhook to a subscribed partner; a redelivered match changes none of that."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from buurtsignaal_contracts import new_event
from notifications_service.delivery_worker import DeliveryWorker
from servicekit.testing import eventually, token_for
from servicekit.testing.event_factories import match_participant, signal_matched
from servicekit.testing.events import publish

pytestmark = pytest.mark.integration

PROFESSIONALS = {
    "r-school": ("obs-de-singel", "mo.voorbeeld@obs-de-singel.example"),
    "r-police": ("politie-schiedam", "n.proefmans@politie.example"),
    "r-leerplicht": ("leerplicht-schiedam", "o.testbeeld@leerplicht.schiedam.example"),
}
COORDINATOR = ("mc-01", "mc-01@gemeente.schiedam.example")


async def inbox(service, account: str) -> list[dict]:
    response = await service.client.get("/api/v1/inbox", headers=token_for(account, "reporter"))
    return response.json()["items"]


async def test_a_match_tells_every_professional_once_by_inbox_and_email_and_the_partner(
    notifications, smtp_server, webhook_receiver, amqp_connection
):
    subscription = (
        await notifications.client.post(
            "/api/v1/webhook-subscriptions",
            json={
                "partner": "politie-schiedam",
                "callback_url": webhook_receiver.url("/politie"),
                "channels": [{"name": "signals", "event_types": ["signal-matched"]}],
            },
            headers=token_for("admin-1", "admin"),
        )
    ).json()
    match = signal_matched(
        participants=[
            match_participant(org, account) for account, (org, _) in PROFESSIONALS.items()
        ]
    )
    event = new_event(match)
    await publish(amqp_connection, event)
    await publish(amqp_connection, event)  # the broker delivers it again

    expected_mail = 1 + len(PROFESSIONALS)  # every professional and the coordinator
    await eventually(
        lambda: _now(smtp_server.received), lambda r: len(r) >= expected_mail, what="the e-mails"
    )
    await eventually(lambda: _now(webhook_receiver.received), what="the webhook")
    await eventually(
        lambda: notifications.db.inbox.count_documents({}), lambda n: n == 1, what="handled"
    )
    await notifications.runtime.get(DeliveryWorker).run_until_idle()

    for account, (organisation, address) in PROFESSIONALS.items():
        (item,) = await inbox(notifications, account)
        assert item["topic"] == "signal-matched"
        assert item["link"] == f"/matches/{match.match_id}"
        others = {c["organisation"] for c in item["contacts"]}
        assert others == {o for o, _ in PROFESSIONALS.values()} - {organisation}
        assert all(c["name"] and c["phone"] and c["email"] for c in item["contacts"])
        (mail,) = smtp_server.to(address)
        assert mail["Subject"] == "Match: 3 organisaties signaleren dezelfde persoon"
        body = smtp_server.text(mail)
        assert f"/matches/{match.match_id}" in body
        for name in ("Mo Voorbeeld", "Nora Proefmans", "Omar Testbeeld", match.person):
            assert name not in body, "contact details are behind the login, not in the e-mail"
    (coordinator_item,) = await inbox(notifications, COORDINATOR[0])
    assert len(coordinator_item["contacts"]) == len(PROFESSIONALS)
    assert len(smtp_server.to(COORDINATOR[1])) == 1
    assert len(smtp_server.received) == expected_mail

    (call,) = webhook_receiver.received
    assert call.path == "/politie"
    key = base64.b64decode(subscription["secret"].removeprefix("whsec_"))
    signed = f"{call.headers['webhook-id']}.{call.headers['webhook-timestamp']}.".encode()
    digest = hmac.new(key, signed + call.body, hashlib.sha256).digest()
    assert call.headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()
    assert call.json()["resource_id"] == str(match.match_id)


async def test_a_professional_missing_from_the_directory_is_told_in_app_only(
    notifications, smtp_server, amqp_connection
):
    match = signal_matched(
        participants=[
            match_participant("obs-de-singel", "r-school"),
            match_participant("sportclub-svs", "r-unknown-coach"),
        ]
    )
    await publish(amqp_connection, new_event(match))
    (item,) = await eventually(lambda: inbox(notifications, "r-unknown-coach"), what="the item")
    assert item["contacts"][0]["name"] == "Mo Voorbeeld"
    (school,) = await inbox(notifications, "r-school")
    assert school["contacts"] == [
        {
            "organisation": "sportclub-svs",
            "account": "r-unknown-coach",
            "name": None,
            "email": None,
            "phone": None,
        }
    ]
    await eventually(lambda: _now(smtp_server.received), lambda r: len(r) == 2, what="2 mails")
    await notifications.runtime.get(DeliveryWorker).run_until_idle()
    assert {m["To"].addresses[0].addr_spec for m in smtp_server.received} == {
        "mo.voorbeeld@obs-de-singel.example",
        "mc-01@gemeente.schiedam.example",
    }


async def _now(value):
    return value
