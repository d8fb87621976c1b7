"""Right of access across the four service processes: a signal is registered, a worker
opens the case and asks for the mayor's letter, the letter is made and downloaded; the
privacy officer then sees who did what to the youth's data, in every service, in order.
Afterwards every service's audit chain verifies."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import httpx
import pytest
from pymongo import AsyncMongoClient

from servicekit.cli import main as buurtsignaal
from servicekit.testing import eventually, token_for

pytestmark = pytest.mark.e2e

REPORTER = token_for("r-e2e-police", "reporter", org="politie-schiedam")
AREA_MANAGER = token_for("am-04", "area-manager")  # manages wot-noord by configuration
WORKER = token_for("w-e2e-trail", "worker", teams=["wot-noord"])
OFFICER = token_for("fg-e2e", "privacy-officer")


def a_youth_in_noord() -> dict:
    """A fresh synthetic youth (test-range BSN) of fifteen, living in Noord."""
    number = f"9999{uuid.uuid4().int % 10**4:04d}"
    weights = (9, 8, 7, 6, 5, 4, 3, 2)
    check = sum(int(d) * w for d, w in zip(number, weights, strict=True)) % 11
    if check == 10:
        return a_youth_in_noord()
    return {
        "bsn": number + str(check),
        "given_name": "Sem",
        "family_name": "Proefpersoon",
        "date_of_birth": (date.today() - timedelta(days=15 * 365)).isoformat(),
        "postcode": "3124 XY",
        "house_number": str(uuid.uuid4().int % 500 + 1),
        "street": "Proefstraat",
        "city": "Schiedam",
    }


async def test_the_access_trail_shows_every_service_that_processed_the_youths_data(stack):
    youth = a_youth_in_noord()
    async with httpx.AsyncClient(timeout=10) as client:
        signal = await client.post(
            f"{stack.url('signals')}/api/v1/signals",
            json={
                "source_type": "police",
                "category": "youth-nuisance",
                "person": youth,
                "occurred_on": date.today().isoformat(),
            },
            headers=REPORTER,
        )
        assert signal.status_code == 201, signal.text
        person = signal.json()["person"]
        cases = f"{stack.url('cases')}/api/v1/cases"

        async def cases_of_person() -> list[dict]:
            response = await client.get(cases, params={"person": person}, headers=AREA_MANAGER)
            return response.json()["items"]

        (case,) = await eventually(cases_of_person, what="the case opened from the signal")
        assert case["programme"] == "intensive-youth-work"
        assigned = await client.post(
            f"{cases}/{case['id']}/assignment",
            json={"worker": "w-e2e-trail", "version": case["version"]},
            headers=AREA_MANAGER,
        )
        assert assigned.status_code == 200, assigned.text
        opened = await client.get(f"{cases}/{case['id']}", headers=WORKER)
        assert opened.status_code == 200
        requested = await client.post(
            f"{cases}/{case['id']}/letters",
            json={"addressees": ["youth", "parents"], "version": opened.json()["version"]},
            headers=WORKER,
        )
        assert requested.status_code == 201, requested.text
        letter = f"{stack.url('notifications')}/api/v1/letters/{requested.json()['id']}"

        async def letter_status() -> str:
            response = await client.get(letter, headers=WORKER)
            return response.json().get("status", "") if response.status_code == 200 else ""

        assert await eventually(letter_status, lambda s: s in ("ready", "failed")) == "ready"
        pdf = await client.get(f"{letter}/pdf", headers=WORKER)
        assert pdf.status_code == 200

        wanted = [
            ("signals", "create", "signal-intake", "r-e2e-police"),
            ("cases", "create", "case-opening", "system"),
            ("cases", "read", "casework", "w-e2e-trail"),
            ("cases", "create", "mayor-letter", "w-e2e-trail"),
            ("signals", "read", "mayor-letter", "svc-notifications"),
            ("notifications", "create", "mayor-letter", "svc-notifications"),
            ("notifications", "read", "mayor-letter", "w-e2e-trail"),
        ]
        trail_url = f"{stack.url('signals')}/api/v1/persons/access-log"

        async def trail() -> list[dict]:
            response = await client.post(trail_url, json={"pseudonym": person}, headers=OFFICER)
            assert response.status_code == 200, response.text
            return response.json()["entries"]

        def key(entry: dict) -> tuple[str, str, str, str]:
            return (entry["service"], entry["action"], entry["activity"], entry["user"])

        entries = await eventually(
            trail,
            lambda found: set(wanted) <= {key(e) for e in found},
            timeout=30,
            what="the processing of every service in the trail",
        )
        firsts = [next(i for i, e in enumerate(entries) if key(e) == w) for w in wanted]
        assert firsts == sorted(firsts), "the trail is in the order things happened"
        times = [e["at"] for e in entries]
        assert times == sorted(times)
        fetch = entries[firsts[4]]
        assert fetch["on_behalf_of"] == "w-e2e-trail", "the service fetched for the worker"
        assert "signal-intake" in {e["activity"] for e in entries if e["service"] == "signals"}

    # Every service's sealer chained its records, and every chain verifies; no audit
    # record anywhere holds the youth's BSN, name, birth date, postcode or street.
    mongo = AsyncMongoClient(stack.mongodb_url)
    try:
        for service in ("signals", "cases", "notifications"):
            args = ["audit", "verify", "--service", service]
            args += ["--mongodb-url", stack.mongodb_url or ""]
            assert await asyncio.to_thread(buurtsignaal, args) == 0, service
            records = await mongo[f"buurtsignaal_{service}"].audit_log.find().to_list()
            assert any(r["person"] == person for r in records), service
            dumped = str(records)
            for identifying in ("bsn", "given_name", "family_name", "date_of_birth", "street"):
                assert youth[identifying] not in dumped, f"{identifying} in {service}'s audit log"
            assert youth["postcode"].replace(" ", "") not in dumped.replace(" ", "")
    finally:
        await mongo.close()
