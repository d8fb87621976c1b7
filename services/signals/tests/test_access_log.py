"""The access trail (AVG art. 15): collected from every service's personal-data-processed
events, read by the privacy officer, itself audit-logged; and a read whose audit record
cannot be written returns no data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure

from buurtsignaal_contracts import new_event
from buurtsignaal_contracts.codes import Confidentiality, DataCategory, ProcessingAction
from buurtsignaal_contracts.events import (
    CasesPersonalDataProcessed,
    NotificationsPersonalDataProcessed,
)
from servicekit.testing import eventually, token_for
from servicekit.testing.events import publish
from signals_service.testing import signal_body, synthetic_bsn, youth

pytestmark = pytest.mark.integration

SCHOOL = token_for("r-school", "reporter", org="obs-de-singel")
OFFICER = token_for("fg-1", "privacy-officer")
WORKER = token_for("w-west-1", "worker", teams=["wot-west"])


async def report(signals, person: dict) -> dict:
    response = await signals.client.post(
        "/api/v1/signals", json=signal_body(person), headers=SCHOOL
    )
    assert response.status_code == 201, response.text
    return response.json()


def processed(model, person: str, at: datetime, **fields):
    values = {
        "processing_id": uuid.uuid4(),
        "person": person,
        "action": ProcessingAction.READ,
        "activity": "casework",
        "user": "w-west-1",
        "organisation": "wijkteam-west",
        "at": at,
        "categories": [DataCategory.CASE_FACTS],
        "confidentiality": Confidentiality.CONFIDENTIAL,
        "retention": "P5Y",
        "records": ["case:" + str(uuid.uuid4())],
        "route": "GET:/api/v1/cases/{case_id}",
    }
    return new_event(model(**{**values, **fields}))


async def trail_of(signals, pseudonym: str, count: int, but_not: str = "") -> list[dict]:
    """The trail once it holds ``count`` entries (other than the officer's own looks)."""

    async def entries() -> list[dict]:
        response = await signals.client.get(
            f"/api/v1/persons/{pseudonym}/access-log", headers=OFFICER
        )
        found = response.json()["entries"] if response.status_code == 200 else []
        return [e for e in found if e["activity"] != but_not]

    return await eventually(entries, lambda found: len(found) >= count, what=f"{count} entries")


async def test_the_trail_lists_who_processed_the_data_in_every_service_in_order(
    signals, amqp_connection
):
    created = await report(signals, youth())
    person = created["person"]
    assert (
        await signals.client.get(f"/api/v1/signals/{created['id']}", headers=SCHOOL)
    ).status_code == 200
    later = datetime.now(UTC) + timedelta(minutes=1)
    await publish(
        amqp_connection,
        processed(CasesPersonalDataProcessed, person, later),
        processed(
            NotificationsPersonalDataProcessed,
            person,
            later + timedelta(minutes=1),
            action=ProcessingAction.CREATE,
            activity="mayor-letter",
            user="svc-notifications",
            organisation=None,
            on_behalf_of="w-west-1",
            route="job:letter-renderer",
        ),
    )

    entries = await trail_of(signals, person, 4, but_not="access-request")
    assert [(e["service"], e["action"], e["activity"], e["user"]) for e in entries] == [
        ("signals", "create", "signal-intake", "r-school"),
        ("signals", "read", "signal-follow-up", "r-school"),
        ("cases", "read", "casework", "w-west-1"),
        ("notifications", "create", "mayor-letter", "svc-notifications"),
    ]
    assert entries[0]["organisation"] == "obs-de-singel"
    assert entries[1]["route"] == "GET:/api/v1/signals/{signal_id}"
    assert entries[3]["on_behalf_of"] == "w-west-1"
    assert entries[0]["records"] == [f"signal:{created['id']}"]


async def test_found_by_bsn_in_the_body_and_the_look_is_itself_logged(signals):
    bsn = synthetic_bsn(11)
    created = await report(signals, youth(bsn=bsn))
    await trail_of(signals, created["person"], 1)

    response = await signals.client.post(
        "/api/v1/persons/access-log", json={"bsn": bsn}, headers=OFFICER
    )
    assert response.status_code == 200, response.text
    assert response.json()["person"] == created["person"]
    looks = await signals.db.audit_log.find({"activity": "access-request"}).to_list()
    assert {(r["user"], r["action"], r["person"]) for r in looks} == {
        ("fg-1", "read", created["person"])
    }
    assert all(bsn not in str(r) for r in await signals.db.audit_log.find().to_list())
    # The look arrives in the trail too: the person sees that the officer looked.
    entries = await trail_of(signals, created["person"], 3)
    assert ("access-request", "fg-1") in {(e["activity"], e["user"]) for e in entries}


async def test_only_the_privacy_officer_or_an_admin_reads_a_trail(signals):
    created = await report(signals, youth(bsn=synthetic_bsn(12)))
    url = f"/api/v1/persons/{created['person']}/access-log"
    assert (await signals.client.get(url)).status_code == 401
    assert (await signals.client.get(url, headers=WORKER)).status_code == 403
    assert (await signals.client.get(url, headers=SCHOOL)).status_code == 403
    admin = token_for("admin-1", "admin")
    assert (await signals.client.get(url, headers=admin)).status_code == 200

    unknown = "/api/v1/persons/ps-" + "0" * 32 + "/access-log"
    assert (await signals.client.get(unknown, headers=OFFICER)).status_code == 404
    nobody = {"bsn": synthetic_bsn(13)}
    post = "/api/v1/persons/access-log"
    assert (await signals.client.post(post, json=nobody, headers=OFFICER)).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"bsn": "123456789"}, "bsn"),
        ({"pseudonym": "someone"}, "pseudonym"),
        ({"bsn": "999990019", "pseudonym": "ps-" + "0" * 32}, "body"),
        ({}, "body"),
    ],
)
async def test_a_bad_request_names_the_field(signals, body, field):
    response = await signals.client.post("/api/v1/persons/access-log", json=body, headers=OFFICER)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(field in e["field"] for e in response.json()["errors"]), response.json()


async def test_a_read_that_cannot_be_logged_fails_with_503_and_returns_no_data(
    signals, monkeypatch
):
    created = await report(signals, youth(bsn=synthetic_bsn(14)))
    insert_many = AsyncCollection.insert_many

    async def audit_log_refuses(collection, documents, *args, **kwargs):
        if collection.name == "audit_log":
            raise OperationFailure("no space left for the audit log", 14031)
        return await insert_many(collection, documents, *args, **kwargs)

    before = await signals.db.audit_log.count_documents({})
    monkeypatch.setattr(AsyncCollection, "insert_many", audit_log_refuses)
    response = await signals.client.get(f"/api/v1/signals/{created['id']}", headers=SCHOOL)
    monkeypatch.undo()

    assert response.status_code == 503
    assert "Synthetisch" not in response.text and "description" not in response.json()
    assert await signals.db.audit_log.count_documents({}) == before


async def test_records_from_before_the_kits_audit_log_are_in_the_trail_and_get_chained(signals):
    created = await report(signals, youth(bsn=synthetic_bsn(15)))
    legacy = {
        "_id": str(uuid.uuid4()),
        "at": datetime.now(UTC),
        "actor": "w-old",
        "org": None,
        "on_behalf_of": None,
        "action": "read",
        "purpose": "casework",
        "person": created["person"],
        "record": f"signal:{created['id']}",
    }
    await signals.db.audit_log.insert_one(legacy)
    entries = await trail_of(signals, created["person"], 2, but_not="access-request")
    assert ("w-old", "casework", "signals") in {
        (e["user"], e["activity"], e["service"]) for e in entries
    }
    sealed = await eventually(
        lambda: signals.db.audit_log.find_one({"_id": legacy["_id"]}),
        lambda doc: bool(doc and doc.get("seq")),
        what="the sealer chaining the old record too",
    )
    assert len(sealed["hash"]) == 64
