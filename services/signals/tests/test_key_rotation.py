"""Rotating the pseudonym (lookup) key and the master encryption key."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from servicekit.testing import PRODUCTION_CONNECTIONS, token_for
from signals_service.keyring import Keyring
from signals_service.lifecycle import run_retention
from signals_service.rotate_keys import KeyRotation, main
from signals_service.settings import (
    DEVELOPMENT_ENCRYPTION_KEY,
    DEVELOPMENT_PSEUDONYM_KEY,
    SignalsSettings,
)
from signals_service.testing import signal_body, synthetic_bsn, youth

pytestmark = pytest.mark.integration

SCHOOL = token_for("r-school", "reporter", org="obs-de-singel")
SERVICE = {**token_for("svc-notifications", "service"), "X-On-Behalf-Of": "w-west-1"}
NEW_PSEUDONYM_KEY = "a-new-pseudonym-key-for-the-rotation-test-0000"
NEW_ENCRYPTION_KEY = base64.b64encode(b"n" * 32).decode()
ROTATED = {
    "pseudonym_key": NEW_PSEUDONYM_KEY,
    "pseudonym_key_version": "k2",
    "previous_pseudonym_keys": {"k1": DEVELOPMENT_PSEUDONYM_KEY},
    "encryption_key": NEW_ENCRYPTION_KEY,
    "encryption_key_version": "e2",
    "previous_encryption_keys": {"e1": DEVELOPMENT_ENCRYPTION_KEY},
}
START_DAY = datetime(2026, 3, 2, tzinfo=UTC).date()
RETIRED = {
    "pseudonym_key": NEW_PSEUDONYM_KEY,
    "pseudonym_key_version": "k2",
    "encryption_key": NEW_ENCRYPTION_KEY,
    "encryption_key_version": "e2",
}


async def report(service, clock, person: dict, headers=SCHOOL) -> dict:
    body = signal_body(person, today=clock.now().date())
    response = await service.client.post("/api/v1/signals", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def by_bsn(bsn: str, clock) -> dict:
    person = youth(bsn=bsn, today=clock.now().date())
    return {"bsn": bsn, "date_of_birth": person["date_of_birth"]}


def by_name(clock) -> dict:
    person = youth(today=clock.now().date(), given_name="Noa", family_name="Voorbeeld")
    del person["bsn"]
    return person


async def test_rotation_rehashes_rewraps_and_keeps_every_pseudonym(start_signals, clock):
    async with start_signals(clock) as signals:
        archived = await report(signals, clock, youth(bsn=synthetic_bsn(4), today=START_DAY))
        clock.set(datetime(2026, 6, 1, 9, tzinfo=UTC))
        a = await report(signals, clock, youth(bsn=synthetic_bsn(1), today=START_DAY))
        b = await report(signals, clock, by_name(clock))
        body = signal_body(youth(bsn=synthetic_bsn(3), today=START_DAY), today=clock.now().date())
        batch = await signals.client.post(
            "/api/v1/signals/batch",
            json={"signals": [{**body, "external_ref": "leerling-3"}]},
            headers=SCHOOL,
        )
        assert batch.json()["created"] == 1
        await run_retention(signals.runtime, datetime(2028, 3, 2, 9, tzinfo=UTC))
        assert await signals.db.archive.count_documents({}) == 1

    async with start_signals(clock, **ROTATED) as signals:
        # Before the re-hash: found by the previous version's hash.
        again = await report(signals, clock, by_bsn(synthetic_bsn(1), clock))
        assert again["person"] == a["person"]

        rotation = KeyRotation(Keyring.from_settings(signals.runtime.settings))
        report_ = await rotation.run(signals.runtime.transactions)
        assert report_.persons == 3
        assert report_.rewrapped == 3 and report_.rehashed == 3
        assert report_.persons_on_previous_versions == 0
        assert report_.keys_on_previous_versions == 0
        assert (report_.archive_records, str(report_.archive_last_purge)) == (1, "2033-03-02")
        assert report_.batch_references == 1
        persons = await signals.db.persons.find().to_list()
        lookups = await signals.db.person_lookup.find().to_list()
        assert len(lookups) == 3 and all(k["_id"].startswith("k2:") for k in lookups)
        assert all(p["address_key"].startswith("k2:") for p in persons)
        keys = await signals.db.person_keys.find().to_list()
        assert {k["key_version"] for k in keys} == {"e2"}
        assert await signals.db.audit_log.count_documents({"activity": "key-rotation"}) == 3

        second = await rotation.run(signals.runtime.transactions)
        assert (second.rehashed, second.rewrapped) == (0, 0), "running again changes nothing"

        # The archive still recognises the expired person while k1 is configured.
        back = await report(signals, clock, youth(bsn=synthetic_bsn(4), today=clock.now().date()))
        assert back["earlier_signal_existed"] is True and back["person"] != archived["person"]

    async with start_signals(clock, **RETIRED) as signals:
        assert (await report(signals, clock, by_bsn(synthetic_bsn(1), clock)))["person"] == a[
            "person"
        ]
        assert (await report(signals, clock, by_name(clock)))["person"] == b["person"]
        letter = await signals.client.get(
            f"/api/v1/persons/{b['person']}/letter-details", headers=SERVICE
        )
        assert letter.status_code == 200 and letter.json()["youth"]["given_name"] == "Noa"
        mine = await signals.client.get(f"/api/v1/signals/{a['id']}", headers=SCHOOL)
        assert mine.json()["description"].startswith("Synthetisch"), "data keys open with e2"


def test_settings_refuse_a_previous_key_under_the_current_version():
    with pytest.raises(ValueError, match="PREVIOUS_PSEUDONYM_KEYS"):
        SignalsSettings(
            pseudonym_key_version="k1", previous_pseudonym_keys={"k1": DEVELOPMENT_PSEUDONYM_KEY}
        )
    with pytest.raises(ValueError, match="development keys"):
        SignalsSettings(
            **PRODUCTION_CONNECTIONS,
            pseudonym_key=DEVELOPMENT_PSEUDONYM_KEY,
            encryption_key=NEW_ENCRYPTION_KEY,
        )


def test_the_command_reports_what_still_needs_the_previous_keys(
    mongodb_url, database_name, monkeypatch, capsys
):
    monkeypatch.setenv("MONGODB_URL", mongodb_url)
    monkeypatch.setenv("MONGODB_DATABASE", database_name)
    monkeypatch.setenv("PSEUDONYM_KEY", NEW_PSEUDONYM_KEY)
    monkeypatch.setenv("PSEUDONYM_KEY_VERSION", "k2")
    monkeypatch.setenv("PREVIOUS_PSEUDONYM_KEYS", f'{{"k1": "{DEVELOPMENT_PSEUDONYM_KEY}"}}')
    assert main(["--check"]) == 0
    out = capsys.readouterr().out
    assert "still on a previous lookup key (k1): persons 0" in out
    assert main(["--no-progress"]) == 0
    assert "persons: 0; re-hashed: 0" in capsys.readouterr().out
