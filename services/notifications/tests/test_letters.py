"""The mayor's letter, with the real signals service behind a real HTTP server.

Signals runs in-process under uvicorn on a free loopback port and SIGNALS_URL
points at it, so the fetch of names and address is the production code path:
a real authenticated HTTP call with this service's own token and
X-On-Behalf-Of, verified and audit-logged by signals itself.
"""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cryptography.exceptions import InvalidTag
from pypdf import PdfReader

from buurtsignaal_contracts import new_event
from buurtsignaal_contracts.codes import LetterAddressee
from notifications_service.app import definition
from notifications_service.crypto import Vault
from notifications_service.domain.letters import dutch_date
from notifications_service.letters.desk import LetterDesk, LetterGone
from notifications_service.store.letters import Letter
from servicekit.devstack.processes import free_port
from servicekit.testing import eventually, token_for
from servicekit.testing.event_factories import mayor_letter_requested, subject_erased
from servicekit.testing.events import publish
from servicekit.testing.server import served
from servicekit.testing.service import running_service
from servicekit.testing.tap import EventTap
from signals_service.app import definition as signals_definition
from signals_service.settings import SignalsSettings

pytestmark = pytest.mark.integration

WORKER = token_for("w-west-1", "worker", teams=["wot-west"])
MANAGER = token_for("am-02", "area-manager", teams=["wot-west", "wot-zuid"])
OTHER_TEAM = token_for("w-noord-1", "worker", teams=["wot-noord"])
REPORTER = token_for("r-school", "reporter", org="obs-de-singel")
LETTER_SENT = "nl.buurtsignaal.notifications.mayor-letter-sent.v1"
WORKER_MAIL = "w-west-1@buurtsignaal.schiedam.example"


def today() -> date:
    return datetime.now(ZoneInfo("Europe/Amsterdam")).date()


@pytest.fixture
async def signals(amqp_url, mongodb_url, database_name):
    settings = SignalsSettings(
        amqp_url=amqp_url, mongodb_url=mongodb_url, mongodb_database=f"{database_name}_signals"
    )
    async with served(signals_definition(settings)) as service:
        yield service


@pytest.fixture
async def notifications(make_settings, smtp_server, signals):
    settings = make_settings(
        smtp_host=smtp_server.host, smtp_port=smtp_server.port, signals_url=signals.base_url
    )
    async with running_service(definition(settings)) as service:
        yield service


async def a_youth_known_to_signals(signals, guardians=None) -> str:
    """Report a synthetic youth with names, address and parents; return the pseudonym."""
    body = {
        "source_type": "police",
        "category": "police-incident",
        "occurred_on": (today() - timedelta(days=2)).isoformat(),
        "person": {
            "bsn": "999990019",
            "given_name": "Noa",
            "family_name": "Voorbeeld",
            "date_of_birth": (today() - timedelta(days=15 * 365)).isoformat(),
            "street": "Voorbeeldstraat",
            "house_number": "12",
            "postcode": "3117 AB",
            "city": "Schiedam",
            "guardians": guardians
            if guardians is not None
            else [
                {"given_name": "Eva", "family_name": "Voorbeeld"},
                {"given_name": "Tim", "family_name": "Proefmans"},
            ],
        },
    }
    headers = token_for("r-police", "reporter", org="politie-schiedam")
    response = await signals.client.post("/api/v1/signals", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["person"]


async def letter(service, letter_id, headers=WORKER):
    return await service.client.get(f"/api/v1/letters/{letter_id}", headers=headers)


async def ready(service, letter_id) -> dict:
    return await eventually(
        lambda: _json(letter(service, letter_id)),
        lambda body: body.get("status") not in (None, "requested"),
        what="the letter rendered",
    )


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def test_a_requested_letter_is_rendered_downloaded_delivered_and_announced(
    notifications, signals, smtp_server, amqp_connection
):
    pseudonym = await a_youth_known_to_signals(signals)
    request = mayor_letter_requested(person=pseudonym, worker="w-west-1")
    await publish(amqp_connection, new_event(request))

    rendered = await ready(notifications, request.letter_id)
    assert rendered["status"] == "ready", rendered
    assert rendered["pdf"] == f"/api/v1/letters/{request.letter_id}/pdf"

    # The worker hears it is ready: in-app and by e-mail, without any name in either.
    inbox = (await notifications.client.get("/api/v1/inbox", headers=WORKER)).json()["items"]
    assert [i["topic"] for i in inbox] == ["mayor-letter-ready"]
    assert inbox[0]["link"] == f"/letters/{request.letter_id}"
    (mail,) = await eventually(lambda: _now(smtp_server.to(WORKER_MAIL)), what="the e-mail")
    assert mail["Subject"] == "De brief van de burgemeester staat klaar"
    for personal in ("Noa", "Voorbeeldstraat", "3117", pseudonym):
        assert personal not in smtp_server.text(mail) and personal not in inbox[0]["message"]

    # Stored encrypted: neither a PDF nor a name is readable in the database.
    stored = await notifications.db.letters.find_one({"_id": str(request.letter_id)})
    assert b"%PDF" not in stored["pdf"] and b"Noa" not in stored["pdf"]

    download = await notifications.client.get(
        f"/api/v1/letters/{request.letter_id}/pdf", headers=WORKER
    )
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["cache-control"] == "no-store"
    text = pdf_text(download.content)
    for expected in (
        "Gemeente Schiedam",
        "Noa Voorbeeld",
        "Eva Voorbeeld",
        "Tim Proefmans",
        "Voorbeeldstraat 12",
        "3117 AB",
        "Beste Noa en ouder(s)/verzorger(s),",
        "intensief jongerenwerk",
        "Gijs Voorbeeld",  # the worker, from the staff directory
        "010 555 0203",
        WORKER_MAIL,
        dutch_date(today()),
        f"Kenmerk: {rendered['reference']}",
        "De burgemeester van Schiedam",
    ):
        assert expected in text, f"{expected!r} missing from the letter"
    assert "Noa" not in (PdfReader(io.BytesIO(download.content)).metadata.title or "")

    # Both sides logged the fetch; this side also logged the download.
    fetched = await signals.db.audit_log.find({"activity": "mayor-letter"}).to_list()
    assert [(r["user"], r["on_behalf_of"]) for r in fetched] == [("svc-notifications", "w-west-1")]
    letter_log = {"activity": "mayor-letter"}
    log = await notifications.db.audit_log.find(letter_log).sort("at", 1).to_list()
    assert [(r["action"], r["user"], r["on_behalf_of"], r["person"]) for r in log] == [
        ("create", "svc-notifications", "w-west-1", pseudonym),
        ("read", "w-west-1", None, pseudonym),
    ]
    status_reads = {"activity": "mayor-letter-status", "action": "read", "person": pseudonym}
    assert await notifications.db.audit_log.count_documents(status_reads) >= 1

    # Nobody outside the team sees it; reporters have no business here at all.
    of_case = {"case_id": str(request.case_id)}
    listed = await notifications.client.get("/api/v1/letters", params=of_case, headers=WORKER)
    assert [x["id"] for x in listed.json()["items"]] == [str(request.letter_id)]
    hidden = await notifications.client.get("/api/v1/letters", params=of_case, headers=OTHER_TEAM)
    assert hidden.json()["items"] == []
    assert (await letter(notifications, request.letter_id, OTHER_TEAM)).status_code == 404
    other_pdf = f"/api/v1/letters/{request.letter_id}/pdf"
    assert (await notifications.client.get(other_pdf, headers=OTHER_TEAM)).status_code == 404
    assert (await letter(notifications, request.letter_id, REPORTER)).status_code == 403

    # Recording the delivery: checked first, then published, and the PDF is destroyed.
    url = f"/api/v1/letters/{request.letter_id}/delivery"
    posted_to_youth = {"method": "post", "handed_to": "youth", "delivered_on": str(today())}
    bad = await notifications.client.post(url, json=posted_to_youth, headers=WORKER)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "handed_to"
    tomorrow = {
        "method": "home-visit",
        "handed_to": "youth",
        "delivered_on": str(today() + timedelta(days=1)),
    }
    bad = await notifications.client.post(url, json=tomorrow, headers=WORKER)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "delivered_on"
    assert (await _json(letter(notifications, request.letter_id)))["status"] == "ready"

    delivery = {
        "method": "home-visit",
        "handed_to": "youth-and-parent",
        "delivered_on": str(today()),
    }
    async with EventTap(amqp_connection) as tap:
        recorded = await notifications.client.post(url, json=delivery, headers=MANAGER)
        assert recorded.status_code == 201, recorded.text
        (sent,) = await tap.wait_for(LETTER_SENT)
    assert sent["subject"] == str(request.letter_id)
    assert sent["data"] == {
        "letter_id": str(request.letter_id),
        "case_id": str(request.case_id),
        "team": "wot-west",
        "programme": "intensive-youth-work",
        "district": "west",
        "method": "home-visit",
        "handed_to": "youth-and-parent",
        "delivered_on": str(today()),
        "recorded_by": "am-02",
        "recorded_at": sent["data"]["recorded_at"],
    }
    assert recorded.json()["status"] == "delivered" and recorded.json()["pdf"] is None
    gone = await notifications.client.get(other_pdf, headers=WORKER)
    assert gone.status_code == 410
    stored = await notifications.db.letters.find_one({"_id": str(request.letter_id)})
    assert stored["pdf"] is None and stored["pdf_destroyed_at"] is not None
    again = await notifications.client.post(url, json=delivery, headers=WORKER)
    assert again.status_code == 409


async def test_a_letter_to_the_parents_only_and_a_retry_with_an_idempotency_key(
    notifications, signals, amqp_connection
):
    pseudonym = await a_youth_known_to_signals(signals, guardians=[])
    request = mayor_letter_requested(
        person=pseudonym, worker="w-west-1", addressees=[LetterAddressee.PARENTS]
    )
    await publish(amqp_connection, new_event(request))
    await ready(notifications, request.letter_id)
    content = (
        await notifications.client.get(f"/api/v1/letters/{request.letter_id}/pdf", headers=WORKER)
    ).content
    text = pdf_text(content)
    assert "De ouder(s)/verzorger(s) van Noa Voorbeeld" in text
    assert "Geachte ouder(s)/verzorger(s)," in text
    assert "uw kind Noa Voorbeeld" in text

    url = f"/api/v1/letters/{request.letter_id}/delivery"
    body = {"method": "post", "handed_to": "letterbox", "delivered_on": str(today())}
    keyed = {**WORKER, "Idempotency-Key": "delivery-form-1"}
    async with EventTap(amqp_connection) as tap:
        first = await notifications.client.post(url, json=body, headers=keyed)
        replay = await notifications.client.post(url, json=body, headers=keyed)
        await tap.wait_for(LETTER_SENT)
    assert first.status_code == replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    outbox = await notifications.db.outbox.count_documents({"type": LETTER_SENT})
    assert outbox == 1, "one delivery, one event"


async def test_a_person_unknown_to_signals_fails_the_letter_and_the_worker_hears_it(
    notifications, smtp_server, amqp_connection
):
    request = mayor_letter_requested(person="ps-" + "0" * 32, worker="w-west-1")
    await publish(amqp_connection, new_event(request))
    failed = await ready(notifications, request.letter_id)
    assert failed["status"] == "failed" and failed["failure"] == "person-unknown"
    inbox = (await notifications.client.get("/api/v1/inbox", headers=WORKER)).json()["items"]
    assert [i["topic"] for i in inbox] == ["mayor-letter-failed"]
    assert "niet (meer) bekend" in inbox[0]["message"]
    (mail,) = await eventually(lambda: _now(smtp_server.to(WORKER_MAIL)), what="the e-mail")
    assert "kon niet worden gemaakt" in mail["Subject"]


async def test_signals_unreachable_is_retried_on_the_schedule_then_failed(
    make_settings, amqp_connection
):
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = make_settings(signals_url=nowhere, letter_render_retry_schedule=[0.05, 0.05])
    async with running_service(definition(settings)) as service:
        request = mayor_letter_requested(worker="w-west-1")
        await publish(amqp_connection, new_event(request))
        failed = await ready(service, request.letter_id)
        assert failed["status"] == "failed" and failed["failure"] == "signals-unavailable"
        stored = await service.db.letters.find_one({"_id": str(request.letter_id)})
        assert stored["attempts"] == 3
        fetched = {"activity": "mayor-letter"}
        assert await service.db.audit_log.count_documents(fetched) == 0, "nothing was fetched"


async def test_erasure_removes_the_letters_and_shreds_every_copy_of_the_pdf(
    notifications, signals, amqp_connection
):
    pseudonym = await a_youth_known_to_signals(signals)
    erased = mayor_letter_requested(person=pseudonym, worker="w-west-1")
    kept = mayor_letter_requested(person=await a_second_youth(signals), worker="w-west-1")
    await publish(amqp_connection, new_event(erased), new_event(kept))
    await ready(notifications, erased.letter_id)
    await ready(notifications, kept.letter_id)
    desk = notifications.runtime.get(LetterDesk)
    backup = await notifications.db.letters.find_one({"_id": str(erased.letter_id)})

    async def opened(copy: dict) -> bytes:
        async def read(uow):
            return await desk._open_pdf(uow, Letter.from_document(copy), copy["pdf"])

        return await notifications.runtime.transactions.run(read)

    assert (await opened(backup)).startswith(b"%PDF"), "the copy opens while the key exists"

    await publish(amqp_connection, new_event(subject_erased(person=pseudonym)))
    await eventually(
        lambda: notifications.db.letters.count_documents({"_id": str(erased.letter_id)}),
        lambda n: n == 0,
        what="the erasure",
    )
    assert (await letter(notifications, erased.letter_id)).status_code == 404
    assert await notifications.db.person_keys.count_documents({"_id": pseudonym}) == 0
    with pytest.raises(LetterGone):  # the copy taken before: its key is gone
        await opened(backup)
    with pytest.raises(InvalidTag):  # and the service's own key does not open it either
        vault = notifications.runtime.get(Vault)
        vault.open("letter-pdf", str(erased.letter_id), b"k1" + backup["pdf"][2:])
    assert (await _json(letter(notifications, kept.letter_id)))["status"] == "ready"
    inbox = (await notifications.client.get("/api/v1/inbox", headers=WORKER)).json()["items"]
    assert [i["link"] for i in inbox] == [f"/letters/{kept.letter_id}"], "its notice went too"


async def test_retention_destroys_an_undelivered_letter_but_keeps_its_record(
    notifications, signals, amqp_connection
):
    kept_too_long = mayor_letter_requested(person=await a_second_youth(signals), worker="w-west-1")
    await publish(amqp_connection, new_event(kept_too_long))
    await ready(notifications, kept_too_long.letter_id)
    desk = notifications.runtime.get(LetterDesk)
    assert await desk.purge_expired(datetime.now(ZoneInfo("UTC")) + timedelta(days=27)) == 0
    assert await desk.purge_expired(datetime.now(ZoneInfo("UTC")) + timedelta(days=29)) == 1
    expired = await _json(letter(notifications, kept_too_long.letter_id))
    assert expired["status"] == "expired" and expired["pdf"] is None
    stored = await notifications.db.letters.find_one({"_id": str(kept_too_long.letter_id)})
    assert stored["pdf"] is None


async def a_second_youth(signals) -> str:
    body = {
        "source_type": "school",
        "category": "behaviour-aggression",
        "occurred_on": (today() - timedelta(days=1)).isoformat(),
        "person": {
            "bsn": "999990020",
            "given_name": "Sem",
            "family_name": "Proefmans",
            "date_of_birth": (today() - timedelta(days=14 * 365)).isoformat(),
            "postcode": "3117 AC",
            "house_number": "3",
        },
    }
    response = await signals.client.post("/api/v1/signals", json=body, headers=REPORTER)
    assert response.status_code == 201, response.text
    return response.json()["person"]


async def _json(response_coroutine) -> dict:
    response = await response_coroutine
    return response.json() if response.status_code == 200 else {}


async def _now(value):
    return value
