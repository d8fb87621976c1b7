"""Withdrawal, expiry, the archive and death, at chosen dates (injected clock)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from servicekit.testing import eventually, token_for
from signals_service.lifecycle import run_retention
from signals_service.testing import committed_events, signal_body, synthetic_bsn, youth

pytestmark = pytest.mark.integration

SCHOOL = token_for("r-school", "reporter", org="obs-de-singel")
POLICE = token_for("p-wijkagent", "reporter", org="politie-schiedam")
ADMIN = token_for("adm-1", "admin")
SERVICE = {**token_for("svc-notifications", "service"), "X-On-Behalf-Of": "w-west-1"}


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def report(service, clock, headers=SCHOOL, person=None, **changes) -> dict:
    today = clock.now().date()
    body = signal_body(person or youth(today=today), today=today, **changes)
    response = await service.client.post("/api/v1/signals", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def withdraw(service, signal_id: str, reason: str, headers=SCHOOL):
    return await service.client.post(
        f"/api/v1/signals/{signal_id}/withdrawal", json={"reason": reason}, headers=headers
    )


async def person_record(service, pseudonym: str) -> dict | None:
    return await service.db.persons.find_one({"pseudonym": pseudonym})


# --- withdrawal ----------------------------------------------------------------


async def test_a_withdrawn_signal_is_kept_visible_and_announced(start_signals, clock):
    async with start_signals(clock) as signals:
        created = await report(signals, clock)
        assert (await withdraw(signals, created["id"], "resolved", POLICE)).status_code == 404
        done = await withdraw(signals, created["id"], "resolved")
        assert done.status_code == 200, done.text
        assert done.json() == {
            "id": created["id"],
            "status": "withdrawn",
            "reason": "resolved",
            "withdrawn_at": "2026-03-02T09:00:00Z",
        }
        again = await withdraw(signals, created["id"], "resolved")
        assert again.json() == done.json(), "the same withdrawal again answers the same"
        other = await withdraw(signals, created["id"], "duplicate")
        assert other.status_code == 409

        shown = (
            await signals.client.get(f"/api/v1/signals/{created['id']}", headers=SCHOOL)
        ).json()
        assert shown["status"] == "withdrawn" and shown["withdrawal_reason"] == "resolved"
        (event,) = await committed_events(signals, "signal-withdrawn")
        assert event["data"] == {
            "signal_id": created["id"],
            "person": created["person"],
            "reporting_org": "obs-de-singel",
            "reason": "resolved",
            "withdrawn_at": "2026-03-02T09:00:00Z",
        }


async def test_a_wrongful_signal_is_deleted_with_the_person_it_alone_was_about(
    start_signals, clock
):
    async with start_signals(clock) as signals:
        created = await report(signals, clock)
        person = await person_record(signals, created["person"])
        done = await withdraw(signals, created["id"], "wrongful")
        assert done.status_code == 200 and done.json()["status"] == "deleted"
        assert await signals.db.signals.count_documents({}) == 0
        assert await signals.db.archive.count_documents({}) == 0, "wrongful: nothing archived"
        assert await person_record(signals, created["person"]) is None
        assert await signals.db.person_keys.count_documents({"_id": person["_id"]}) == 0
        assert await signals.db.match_groups.count_documents({}) == 0
        letter = f"/api/v1/persons/{created['person']}/letter-details"
        assert (await signals.client.get(letter, headers=SERVICE)).status_code == 404
        assert (
            await signals.client.get(f"/api/v1/signals/{created['id']}", headers=SCHOOL)
        ).status_code == 404
        (event,) = await committed_events(signals, "signal-withdrawn")
        assert event["data"]["reason"] == "wrongful"
        actions = [a["action"] for a in await signals.db.audit_log.find().sort("at", 1).to_list()]
        assert actions[0] == "create" and actions.count("delete") == 2  # the signal, the person
        assert (await withdraw(signals, created["id"], "wrongful")).status_code == 404


async def test_a_wrongful_signal_leaves_the_person_when_other_signals_remain(start_signals, clock):
    async with start_signals(clock) as signals:
        wrong = await report(signals, clock)
        right = await report(signals, clock, POLICE, source_type="police")
        await withdraw(signals, wrong["id"], "wrongful")
        assert await person_record(signals, right["person"]) is not None
        shown = await signals.client.get(f"/api/v1/signals/{right['id']}", headers=POLICE)
        assert shown.json()["description"].startswith("Synthetisch")


async def test_a_withdrawal_can_be_corrected_to_wrongful(start_signals, clock):
    async with start_signals(clock) as signals:
        created = await report(signals, clock)
        await withdraw(signals, created["id"], "duplicate")
        corrected = await withdraw(signals, created["id"], "wrongful")
        assert corrected.json()["status"] == "deleted"
        assert await signals.db.signals.count_documents({}) == 0
        reasons = [e["data"]["reason"] for e in await committed_events(signals, "signal-withdrawn")]
        assert reasons == ["duplicate", "wrongful"]


# --- expiry and the archive -------------------------------------------------------


async def test_a_signal_expires_two_years_after_registration_and_leaves_a_minimal_record(
    start_signals, clock
):
    async with start_signals(clock) as signals:
        created = await report(signals, clock)
        assert created["expires_on"] == "2028-03-02"
        assert created["expiry_reason"] == "retention-period"
        runtime = signals.runtime

        the_day_before = at(date(2028, 3, 1), 23)
        assert (await run_retention(runtime, the_day_before)).expired == 0
        assert await signals.db.signals.count_documents({}) == 1

        clock.set(at(date(2028, 3, 2), 1))
        outcome = await run_retention(runtime, clock.now())
        assert (outcome.expired, outcome.purged, outcome.failed) == (1, 0, 0)
        assert await signals.db.signals.count_documents({}) == 0
        (event,) = await committed_events(signals, "signal-expired")
        assert event["data"] == {
            "signal_id": created["id"],
            "person": created["person"],
            "reason": "retention-period",
            "expired_at": "2028-03-02T01:00:00Z",
        }
        (archived,) = await signals.db.archive.find().to_list()
        assert set(archived) == {"_id", "person", "lookup_keys", "signals", "next_purge_on"}
        assert archived["person"] == created["person"]
        assert archived["signals"] == [
            {
                "signal_id": created["id"],
                "registered_on": "2026-03-02",
                "expired_on": "2028-03-02",
                "reason": "retention-period",
                "purge_on": "2033-03-02",
                "told": False,
            }
        ]
        assert all(k.startswith("k1:") for k in archived["lookup_keys"])
        assert "999990019" not in str(archived)
        # Minimisation: the identity and its key are gone, so is the letter's source.
        assert await signals.db.persons.count_documents({}) == 0
        assert await signals.db.person_keys.count_documents({}) == 0
        letter = f"/api/v1/persons/{created['person']}/letter-details"
        assert (await signals.client.get(letter, headers=SERVICE)).status_code == 404

        again = await run_retention(runtime, clock.now())
        assert (again.expired, again.purged) == (0, 0), "running again changes nothing"
        assert len(await committed_events(signals, "signal-expired")) == 1


async def test_a_signal_expires_when_the_person_turns_23(start_signals, clock):
    async with start_signals(clock) as signals:
        person = youth(today=clock.now().date())
        person["date_of_birth"] = "2003-09-15"  # 22 on registration day
        created = await report(signals, clock, person=person)
        assert (created["expires_on"], created["expiry_reason"]) == ("2026-09-15", "age-limit")
        assert (await run_retention(signals.runtime, at(date(2026, 9, 14)))).expired == 0
        assert (await run_retention(signals.runtime, at(date(2026, 9, 15)))).expired == 1
        (event,) = await committed_events(signals, "signal-expired")
        assert event["data"]["reason"] == "age-limit"


async def test_the_limits_are_configurable(start_signals, clock):
    async with start_signals(clock, retention_years=1, age_limit=18, archive_years=2) as signals:
        created = await report(signals, clock)
        assert created["expires_on"] == "2027-03-02"
        await run_retention(signals.runtime, at(date(2027, 3, 2)))
        (archived,) = await signals.db.archive.find().to_list()
        assert archived["next_purge_on"] == "2029-03-02"


async def test_a_new_signal_about_an_archived_person_is_told_once(start_signals, clock):
    async with start_signals(clock) as signals:
        first = await report(signals, clock)
        assert first["earlier_signal_existed"] is False
        clock.set(at(date(2028, 3, 2)))
        await run_retention(signals.runtime, clock.now())

        clock.set(at(date(2028, 6, 1)))
        later = youth(today=date(2026, 3, 2))  # the same youth, two years older
        second = await report(signals, clock, POLICE, person=later, source_type="police")
        third = await report(signals, clock, POLICE, person=later, source_type="police")
        assert (second["earlier_signal_existed"], third["earlier_signal_existed"]) == (True, False)
        received = [e["data"] for e in await committed_events(signals, "signal-received")]
        assert [r["earlier_signal_existed"] for r in received] == [False, True, False]
        assert second["person"] != first["person"], "a new start: a new pseudonym"
        (archived,) = await signals.db.archive.find().to_list()
        assert archived["signals"][0]["told"] is True


async def test_the_archive_is_purged_after_five_years_and_then_tells_nothing(start_signals, clock):
    async with start_signals(clock) as signals:
        await report(signals, clock)
        await run_retention(signals.runtime, at(date(2028, 3, 2)))
        assert (await run_retention(signals.runtime, at(date(2033, 3, 1)))).purged == 0
        assert await signals.db.archive.count_documents({}) == 1
        assert (await run_retention(signals.runtime, at(date(2033, 3, 2)))).purged == 1
        assert await signals.db.archive.count_documents({}) == 0

        clock.set(at(date(2033, 4, 1)))
        person = youth(today=clock.now().date(), bsn="999990019")
        later = await report(signals, clock, person=person)
        assert later["earlier_signal_existed"] is False


async def test_a_withdrawn_signal_is_archived_at_its_date_without_a_second_announcement(
    start_signals, clock
):
    async with start_signals(clock) as signals:
        created = await report(signals, clock)
        await withdraw(signals, created["id"], "resolved")
        assert (await run_retention(signals.runtime, at(date(2028, 3, 2)))).expired == 1
        assert await committed_events(signals, "signal-expired") == []
        assert await signals.db.archive.count_documents({}) == 1


async def test_the_person_stays_while_another_signal_is_active(start_signals, clock):
    async with start_signals(clock) as signals:
        first = await report(signals, clock)
        clock.set(at(date(2027, 1, 10)))
        second = await report(signals, clock, POLICE, person=youth(today=date(2026, 3, 2)))
        await run_retention(signals.runtime, at(date(2028, 3, 2)))
        assert await person_record(signals, first["person"]) is not None
        remaining = await signals.db.signals.find().to_list()
        assert [s["_id"] for s in remaining] == [second["id"]]

        clock.set(at(date(2028, 3, 3)))
        third = await report(signals, clock, person=youth(today=date(2026, 3, 2)))
        assert third["earlier_signal_existed"] is True and third["person"] == first["person"]


async def test_the_scheduler_in_the_service_expires_signals_by_itself(start_signals, clock):
    async with start_signals(clock, retention_interval_seconds=0.1) as signals:
        created = await report(signals, clock)
        clock.set(at(date(2028, 3, 2)))
        await eventually(
            lambda: signals.db.signals.count_documents({"_id": created["id"]}),
            lambda n: n == 0,
            what="the scheduled retention run",
        )
        (event,) = await committed_events(signals, "signal-expired")
        assert event["data"]["signal_id"] == created["id"]


# --- death -------------------------------------------------------------------------


async def test_when_a_person_dies_every_signal_goes_and_nothing_is_archived(start_signals, clock):
    async with start_signals(clock) as signals:
        school = await report(signals, clock)
        police = await report(signals, clock, POLICE, source_type="police")
        other = await report(signals, clock, person=youth(bsn=synthetic_bsn(7)))
        await withdraw(signals, police["id"], "resolved", POLICE)
        url = f"/api/v1/persons/{school['person']}/deceased"
        assert (await signals.client.post(url, headers=SCHOOL)).status_code == 403
        done = await signals.client.post(url, headers=ADMIN)
        assert done.json() == {"person": school["person"], "signals_removed": 2}
        expired = [e["data"] for e in await committed_events(signals, "signal-expired")]
        assert [(e["signal_id"], e["reason"]) for e in expired] == [(school["id"], "deceased")]
        assert [s["_id"] for s in await signals.db.signals.find().to_list()] == [other["id"]]
        assert await signals.db.archive.count_documents({}) == 0
        assert await person_record(signals, school["person"]) is None
        assert (await signals.client.post(url, headers=ADMIN)).status_code == 404


async def test_a_signal_that_cannot_be_expired_does_not_hold_up_the_others(start_signals, clock):
    async with start_signals(clock) as signals:
        broken = await report(signals, clock)
        fine = await report(signals, clock, person=youth(bsn=synthetic_bsn(9)))
        await signals.db.persons.delete_one({"pseudonym": broken["person"]})  # damaged data
        outcome = await run_retention(signals.runtime, at(date(2028, 3, 2)))
        assert (outcome.expired, outcome.failed) == (1, 1)
        remaining = [s["_id"] for s in await signals.db.signals.find().to_list()]
        assert remaining == [broken["id"]] and fine["id"] not in remaining
        metrics = (await signals.client.get("/metrics")).text
        assert "buurtsignaal_retention_failures 1.0" in metrics
        assert 'buurtsignaal_signals_lifecycle_total{outcome="expired"} 1.0' in metrics
