"""Erasure of a person on request (AVG art. 17): what the signals service deletes, what it
publishes, and that a copy of the encrypted data taken before no longer opens afterwards."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime

import pytest
from cryptography.exceptions import InvalidTag

from servicekit.outbox import OUTBOX
from servicekit.testing import eventually, token_for
from servicekit.testing.server import served
from servicekit.testing.tap import EventTap
from signals_service.app import definition
from signals_service.erase_person import main as erase_command
from signals_service.keyring import Keyring
from signals_service.lifecycle import run_retention
from signals_service.persons import PersonRegistry
from signals_service.settings import SignalsSettings
from signals_service.store import Signal
from signals_service.testing import committed_events, signal_body, synthetic_bsn, youth

pytestmark = pytest.mark.integration

SCHOOL = token_for("r-school", "reporter", org="obs-de-singel")
POLICE = token_for("p-wijkagent", "reporter", org="politie-schiedam")
ADMIN = token_for("adm-1", "admin", org="gemeente-schiedam")
ERASE = "/api/v1/persons/erasures"
ERASED = "nl.buurtsignaal.signals.subject-erased.v1"


def named_youth(bsn: str) -> dict:
    return youth(
        bsn=bsn,
        given_name="Testkind",
        family_name="Voorbeeldvlakte",
        street="Proefstraat",
        city="Schiedam",
        guardians=[{"given_name": "Testouder", "family_name": "Voorbeeldvlakte"}],
    )


async def report(service, person: dict, headers=SCHOOL, **changes) -> dict:
    response = await service.client.post(
        "/api/v1/signals", json=signal_body(person, **changes), headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def erasure_of(person: dict, **changes) -> dict:
    return {"person": person, "ground": "objection", "reference": "AVG-2026-0042", **changes}


async def holdings(service, person_id: str, pseudonym: str) -> dict[str, int]:
    """How many documents of each kind still name the person."""
    db = service.db
    return {
        "persons": await db.persons.count_documents({"_id": person_id}),
        "person_keys": await db.person_keys.count_documents({"_id": person_id}),
        "person_lookup": await db.person_lookup.count_documents({"person_id": person_id}),
        "signals": await db.signals.count_documents({"person_id": person_id}),
        "archive": await db.archive.count_documents({"_id": person_id}),
        "match_groups": await db.match_groups.count_documents({"_id": f"person:{person_id}"}),
        "case_access": await db.case_access.count_documents({"person": pseudonym}),
    }


async def test_an_admin_erases_a_person_by_bsn_and_everyone_is_told(signals, amqp_connection):
    erased = named_youth(synthetic_bsn(21))
    other = named_youth(synthetic_bsn(22))
    first = await report(signals, erased)
    await report(signals, erased, headers=POLICE)  # a match: two organisations
    kept = await report(signals, other)
    person = await signals.db.persons.find_one({"pseudonym": first["person"]})
    assert sum((await holdings(signals, person["_id"], first["person"])).values()) >= 5

    body = erasure_of({"bsn": erased["bsn"]})
    assert (await signals.client.post(ERASE, json=body, headers=SCHOOL)).status_code == 403
    async with EventTap(amqp_connection) as tap:
        done = await signals.client.post(ERASE, json=body, headers=ADMIN)
        assert done.status_code == 201, done.text
        (event,) = await tap.wait_for(ERASED)
    answer = done.json()
    assert answer["signals_removed"] == 2 and answer["ground"] == "objection"
    assert first["person"] not in done.text, "the answer names nobody"

    assert set((await holdings(signals, person["_id"], first["person"])).values()) == {0}
    assert event["data"]["person"] == first["person"]
    assert event["data"]["erasure_id"] == answer["erasure_id"]
    assert await committed_events(signals, "signal-expired") == []  # figures stay as they were
    register = await signals.db.erasures.find_one({"_id": answer["erasure_id"]})
    assert register["ground"] == "objection" and register["requested_by"] == "adm-1"
    assert first["person"] not in json.dumps(register, default=str)
    shown = await signals.client.get(f"/api/v1/signals/{kept['id']}", headers=SCHOOL)
    assert shown.status_code == 200 and shown.json()["person"] == kept["person"]
    gone = await signals.client.get(f"/api/v1/signals/{first['id']}", headers=SCHOOL)
    assert gone.status_code == 404


async def test_a_person_is_found_by_name_birth_date_and_address_too(signals):
    person = named_youth(synthetic_bsn(23))
    del person["bsn"]
    created = await report(signals, person)
    subject = {k: person[k] for k in ("date_of_birth", "postcode", "house_number")}
    subject |= {"given_name": "TESTKIND", "family_name": "voorbeeldvlakte"}  # normalised
    done = await signals.client.post(ERASE, json=erasure_of(subject), headers=ADMIN)
    assert done.status_code == 201, done.text
    assert await signals.db.persons.count_documents({"pseudonym": created["person"]}) == 0


async def test_a_copy_taken_before_the_erasure_no_longer_opens(signals):
    """Crypto-shredding: the backup still holds the ciphertext, but its key is gone."""
    created = await report(signals, named_youth(synthetic_bsn(24)))
    person = await signals.db.persons.find_one({"pseudonym": created["person"]})
    backup_person = dict(person)
    backup_signal = await signals.db.signals.find_one({"_id": created["id"]})
    registry = signals.runtime.get(PersonRegistry)

    async def readable() -> tuple[dict | None, str | None]:
        async def read(uow):
            identity = await registry.identity_of(uow, person["_id"])
            signal = Signal.from_document(backup_signal)
            return identity, await registry.description_of(uow, signal)

        return await signals.runtime.transactions.run(read)

    identity, description = await readable()
    assert identity["family_name"] == "Voorbeeldvlakte" and description.startswith("Synthetisch")

    body = erasure_of({"bsn": synthetic_bsn(24)})
    assert (await signals.client.post(ERASE, json=body, headers=ADMIN)).status_code == 201
    # Restore the backup copies, as a database restored from before the erasure would.
    await signals.db.persons.insert_one(backup_person)
    await signals.db.signals.insert_one(backup_signal)
    assert await readable() == (None, None)
    # Neither does the service's master key open them: the data key was random.
    keyring = signals.runtime.get(Keyring)
    for sealed in (backup_person["identity"], backup_signal["description"]):
        with pytest.raises(InvalidTag):
            keyring.unwrap(sealed, person["_id"])
    await signals.db.persons.delete_one({"_id": person["_id"]})
    await signals.db.signals.delete_one({"_id": created["id"]})


async def test_an_unknown_person_is_a_404_and_a_repeated_erasure_changes_nothing(signals):
    unknown = await signals.client.post(
        ERASE, json=erasure_of({"bsn": synthetic_bsn(25)}), headers=ADMIN
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"

    created = await report(signals, named_youth(synthetic_bsn(26)))
    body = erasure_of({"bsn": synthetic_bsn(26)})
    headers = {**ADMIN, "Idempotency-Key": "erase-26"}
    first = await signals.client.post(ERASE, json=body, headers=headers)
    again = await signals.client.post(ERASE, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    without_key = await signals.client.post(ERASE, json=body, headers=ADMIN)
    assert without_key.status_code == 404, "nothing is held about the person any more"
    assert await signals.db.erasures.count_documents({"reference": "AVG-2026-0042"}) == 1
    assert await signals.db.persons.count_documents({"pseudonym": created["person"]}) == 0
    stored = await signals.db.idempotency_keys.find_one({"_id": "persons:erase:adm-1:erase-26"})
    assert synthetic_bsn(26) not in json.dumps(stored, default=str)


async def test_bad_erasure_requests_name_the_field_and_change_nothing(signals):
    created = await report(signals, named_youth(synthetic_bsn(27)))
    cases = [
        (erasure_of({"date_of_birth": "2015-01-01", "given_name": "Testkind"}), "person.postcode"),
        (erasure_of({"bsn": "123456789"}), "person.bsn"),
        (erasure_of({"bsn": synthetic_bsn(27)}, ground="because"), "ground"),
        (erasure_of({"bsn": synthetic_bsn(27)}, reference="has spaces in it"), "reference"),
        (erasure_of({"bsn": synthetic_bsn(27)}, reference=f"REQ-{synthetic_bsn(27)}"), "reference"),
    ]
    for body, field in cases:
        response = await signals.client.post(ERASE, json=body, headers=ADMIN)
        assert response.status_code == 422, response.text
        assert field in [e["field"] for e in response.json()["errors"]], response.text
    assert await signals.db.persons.count_documents({"pseudonym": created["person"]}) == 1


async def test_the_outbox_forgets_the_pseudonym_once_the_erasure_went_out(signals):
    created = await report(signals, named_youth(synthetic_bsn(28)))
    body = erasure_of({"bsn": synthetic_bsn(28)})
    assert (await signals.client.post(ERASE, json=body, headers=ADMIN)).status_code == 201

    async def naming_the_person() -> int:
        records = await signals.db[OUTBOX].find().to_list()
        return sum(created["person"].encode() in r["body"] for r in records)

    await eventually(naming_the_person, lambda n: n == 0, what="the outbox forgets the person")


async def test_the_command_erases_through_the_api_reading_the_person_from_stdin(
    amqp_url, mongodb_url, database_name, capsys
):
    settings = SignalsSettings(
        amqp_url=amqp_url, mongodb_url=mongodb_url, mongodb_database=database_name
    )
    token = ADMIN["Authorization"].removeprefix("Bearer ")
    async with served(definition(settings)) as service:
        created = await report(service, named_youth(synthetic_bsn(29)))

        def run(*extra: str) -> int:
            person = io.StringIO(json.dumps({"bsn": synthetic_bsn(29)}))
            argv = ["--ground", "legal-obligation", "--url", service.base_url, "--token", token]
            return erase_command([*argv, *extra], stdin=person)

        assert await asyncio.to_thread(run, "--idempotency-key", "cli-29") == 0
        assert "erased: erasure" in capsys.readouterr().out
        assert await asyncio.to_thread(run, "--idempotency-key", "cli-29") == 0, "a safe retry"
        assert await asyncio.to_thread(run) == 1
        assert "nothing is held" in capsys.readouterr().out
        assert await service.db.persons.count_documents({"pseudonym": created["person"]}) == 0
        assert (
            await asyncio.to_thread(
                erase_command,
                ["--ground", "because", "--url", service.base_url, "--token", token],
                io.StringIO('{"bsn": "999990019"}'),
            )
            == 2
        )
        assert "ground" in capsys.readouterr().err


async def test_a_person_known_only_to_the_archive_is_erased_and_everyone_is_told(
    start_signals, clock
):
    """Their signals expired (the identity is gone) but their case may live on elsewhere."""
    async with start_signals(clock) as signals:
        body = signal_body(named_youth(synthetic_bsn(30)), today=clock.now().date())
        registered = await signals.client.post("/api/v1/signals", json=body, headers=SCHOOL)
        assert registered.status_code == 201, registered.text
        created = registered.json()
        clock.set(datetime(2028, 3, 3, 9, tzinfo=UTC))
        assert (await run_retention(signals.runtime, clock.now())).expired == 1
        assert await signals.db.persons.count_documents({}) == 0
        assert await signals.db.archive.count_documents({"person": created["person"]}) == 1

        body = erasure_of({"bsn": synthetic_bsn(30)})
        done = await signals.client.post(ERASE, json=body, headers=ADMIN)
        assert done.status_code == 201, done.text
        assert done.json()["signals_removed"] == 0
        assert await signals.db.archive.count_documents({}) == 0
        (event,) = await committed_events(signals, "subject-erased")
        assert event["data"]["person"] == created["person"]
        again = await signals.client.post(ERASE, json=body, headers=ADMIN)
        assert again.status_code == 404
