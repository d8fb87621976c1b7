"""The signals API on a real database and broker."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from servicekit.outbox import OUTBOX
from servicekit.testing import token_for
from servicekit.testing.tap import EventTap

pytestmark = pytest.mark.integration

SCHOOL = token_for("r-school", "reporter", org="obs-de-singel")
POLICE = token_for("r-police", "reporter", org="politie-schiedam")
RECEIVED = "nl.buurtsignaal.signals.signal-received.v1"


def body(**changes):
    today = date.today()
    person = {
        "bsn": "999990019",
        "date_of_birth": (today - timedelta(days=10 * 365 + 40)).isoformat(),
        "postcode": "3117 AB",
        "house_number": "12",
    }
    signal = {
        "source_type": "school",
        "category": "behaviour-aggression",
        "person": person,
        "occurred_on": (today - timedelta(days=1)).isoformat(),
        "description": "Synthetisch: duwt medeleerlingen op het plein.",
    }
    for key, value in changes.items():
        if key.startswith("person_"):
            person[key.removeprefix("person_")] = value
        else:
            signal[key] = value
    return signal


async def stored(service) -> tuple[int, int]:
    return await service.db.signals.count_documents({}), await service.db[OUTBOX].count_documents(
        {}
    )


async def test_a_signal_is_stored_and_announced_without_personal_data(signals, amqp_connection):
    async with EventTap(amqp_connection) as tap:
        response = await signals.client.post("/api/v1/signals", json=body(), headers=SCHOOL)
        assert response.status_code == 201, response.text
        created = response.json()
        assert response.headers["location"] == f"/api/v1/signals/{created['id']}"
        assert created["district"] == "west" and created["age_band"] == "5-11"
        (event,) = await tap.wait_for(RECEIVED, where=lambda e: e["subject"] == created["id"])
    assert event["data"]["person"] == created["person"]
    assert event["data"]["reporting_org"] == "obs-de-singel"
    text = str(event)
    for secret in ("999990019", "3117", "duwt", body()["person"]["date_of_birth"]):
        assert secret not in text
    raw = await signals.db.signals.find_one({"_id": created["id"]})
    assert b"duwt" not in raw["description"], "the description is encrypted at rest"
    person = await signals.db.persons.find_one({"pseudonym": created["person"]})
    lookups = await signals.db.person_lookup.find({"person_id": person["_id"]}).to_list()
    assert len(lookups) == 1 and b"999990019" not in person["identity"]
    assert "999990019" not in str(lookups)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"person_bsn": "999990018"}, "person.bsn"),
        ({"person_date_of_birth": "2090-01-01"}, "person.date_of_birth"),
        ({"category": "gossip"}, "category"),
        ({"suggested_programme": "intensive-youth-work"}, "suggested_programme"),
        ({"district": "atlantis"}, "district"),
        ({"person_postcode": "311 AB"}, "person.postcode"),
        ({"description": "x" * 4001}, "description"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
async def test_bad_input_gets_a_problem_naming_the_field_and_stores_nothing(
    signals, changes, field
):
    before = await stored(signals)
    response = await signals.client.post("/api/v1/signals", json=body(**changes), headers=SCHOOL)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await stored(signals) == before


async def test_a_person_without_bsn_needs_name_and_address(signals):
    signal = body()
    signal["person"] = {"date_of_birth": signal["person"]["date_of_birth"], "given_name": "Sam"}
    response = await signals.client.post("/api/v1/signals", json=signal, headers=SCHOOL)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} >= {
        "person.family_name",
        "person.postcode",
        "person.house_number",
    }


async def test_a_known_person_keeps_their_district_and_an_unknown_one_needs_it(signals):
    known = await signals.client.post("/api/v1/signals", json=body(), headers=SCHOOL)
    bsn_only = body()
    bsn_only["person"] = {"bsn": "999990019", "date_of_birth": bsn_only["person"]["date_of_birth"]}
    again = await signals.client.post("/api/v1/signals", json=bsn_only, headers=POLICE)
    assert (
        again.status_code == 201 and again.json()["district"] == known.json()["district"] == "west"
    )
    before = await stored(signals)
    stranger = body()
    stranger["person"] = {"bsn": "999991772", "date_of_birth": bsn_only["person"]["date_of_birth"]}
    refused = await signals.client.post("/api/v1/signals", json=stranger, headers=POLICE)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "district"
    assert await stored(signals) == before
    assert (
        await signals.db.persons.count_documents({"pseudonym": {"$ne": known.json()["person"]}})
        == 0
    )


async def test_the_same_person_is_recognised_by_bsn_and_by_name_and_address(signals):
    first = body(person_given_name="Zoë", person_family_name="van Oefening")
    by_bsn = body()
    by_name = body(
        person_given_name="ZOE", person_family_name="Van Oefening", person_postcode="3117ab"
    )
    del by_name["person"]["bsn"]
    ids = []
    for signal in (first, by_bsn, by_name):
        response = await signals.client.post("/api/v1/signals", json=signal, headers=SCHOOL)
        assert response.status_code == 201, response.text
        ids.append(response.json()["person"])
    assert len(set(ids)) == 1
    assert await signals.db.persons.count_documents({}) == 1


async def test_only_the_reporting_organisation_reads_a_signal_and_every_read_is_logged(signals):
    created = (await signals.client.post("/api/v1/signals", json=body(), headers=SCHOOL)).json()
    mine = await signals.client.get(f"/api/v1/signals/{created['id']}", headers=SCHOOL)
    theirs = await signals.client.get(f"/api/v1/signals/{created['id']}", headers=POLICE)
    assert mine.status_code == 200
    assert mine.json()["description"] == body()["description"]
    assert theirs.status_code == 404
    audit = await signals.db.audit_log.find({"person": created["person"]}).sort("at", 1).to_list()
    assert [(a["action"], a["user"]) for a in audit] == [
        ("create", "r-school"),
        ("read", "r-school"),
    ]


async def test_lists_show_only_your_organisation_and_page_through(signals):
    for _ in range(3):
        await signals.client.post("/api/v1/signals", json=body(), headers=SCHOOL)
    await signals.client.post(
        "/api/v1/signals",
        json=body(source_type="police", category="police-incident"),
        headers=POLICE,
    )
    first = (
        await signals.client.get("/api/v1/signals", params={"limit": 2}, headers=SCHOOL)
    ).json()
    rest = (
        await signals.client.get(
            "/api/v1/signals", params={"limit": 2, "cursor": first["next_cursor"]}, headers=SCHOOL
        )
    ).json()
    seen = [s["id"] for s in first["items"] + rest["items"]]
    assert len(seen) == len(set(seen)) == 3
    assert {s["reporting_org"] for s in first["items"] + rest["items"]} == {"obs-de-singel"}
    bad = await signals.client.get("/api/v1/signals", params={"cursor": "nonsense"}, headers=SCHOOL)
    assert bad.status_code == 422


async def test_roles_and_organisation_are_required(signals):
    analyst = token_for("an-1", "analyst")
    no_org = token_for("r-x", "reporter")
    assert (await signals.client.post("/api/v1/signals", json=body())).status_code == 401
    assert (
        await signals.client.post("/api/v1/signals", json=body(), headers=analyst)
    ).status_code == 403
    assert (
        await signals.client.post("/api/v1/signals", json=body(), headers=no_org)
    ).status_code == 403


async def test_an_idempotency_key_makes_a_retry_harmless(signals):
    headers = {**SCHOOL, "Idempotency-Key": "school-batch-1-row-7"}
    first = await signals.client.post("/api/v1/signals", json=body(), headers=headers)
    again = await signals.client.post("/api/v1/signals", json=body(), headers=headers)
    assert first.json()["id"] == again.json()["id"]
    assert await signals.db.signals.count_documents({}) == 1


async def test_letter_details_go_to_service_clients_only_and_every_read_is_logged(signals):
    signal = body(
        person_given_name="Noa",
        person_family_name="Voorbeeld",
        person_street="Voorbeeldstraat",
        person_city="Schiedam",
        person_guardians=[{"given_name": "Eva", "family_name": "Voorbeeld"}],
    )
    created = (await signals.client.post("/api/v1/signals", json=signal, headers=SCHOOL)).json()
    later = body(
        person_guardians=[
            {"given_name": "Eva", "family_name": "Voorbeeld"},
            {"given_name": "Tim", "family_name": "Proefmans"},
        ]
    )
    await signals.client.post("/api/v1/signals", json=later, headers=POLICE)
    url = f"/api/v1/persons/{created['person']}/letter-details"
    service = {**token_for("svc-notifications", "service"), "X-On-Behalf-Of": "w-west-1"}

    details = await signals.client.get(url, headers=service)
    assert details.status_code == 200, details.text
    letter = details.json()
    assert letter["youth"] == {"given_name": "Noa", "family_name": "Voorbeeld"}
    assert [g["given_name"] for g in letter["guardians"]] == ["Eva", "Tim"], (
        "the latest report counts"
    )
    assert (
        letter["address"]["street"] == "Voorbeeldstraat"
        and letter["address"]["postcode"] == "3117 AB"
    )

    assert (await signals.client.get(url, headers=SCHOOL)).status_code == 403
    no_behalf = token_for("svc-notifications", "service")
    assert (await signals.client.get(url, headers=no_behalf)).status_code == 422
    unknown = f"/api/v1/persons/ps-{'0' * 32}/letter-details"
    assert (await signals.client.get(unknown, headers=service)).status_code == 404
    reads = await signals.db.audit_log.find({"activity": "mayor-letter"}).to_list()
    assert [(r["user"], r["on_behalf_of"]) for r in reads] == [("svc-notifications", "w-west-1")]
