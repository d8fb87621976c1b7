"""A case worker takes a case from signal to closure, across the four service processes."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import pytest

from servicekit.testing import eventually, token_for

pytestmark = pytest.mark.e2e

REPORTER = token_for("r-e2e-police", "reporter", org="politie-schiedam")
# am-04 manages wot-noord by the area configuration; the token names no team.
AREA_MANAGER = token_for("am-04", "area-manager")
WORKER = token_for("w-e2e-noord", "worker", teams=["wot-noord"])
OTHER_TEAM = token_for("w-e2e-west", "worker", teams=["wot-west"])
ANSWERS = {
    "accepts-correction": "often",
    "responds-to-praise": "often",
    "keeps-agreements": "sometimes",
    "shows-remorse": "often",
    "considers-others": "sometimes",
    "bonds-with-adult": "often",
    "copies-good-example": "often",
    "physical-aggression": "sometimes",
    "seeks-conflict": "sometimes",
    "repeats-after-sanction": "sometimes",
}


def a_child_in_noord() -> dict:
    """A fresh synthetic child (test-range BSN) of eight, living in Noord."""
    number = f"9999{uuid.uuid4().int % 10**4:04d}"
    weights = (9, 8, 7, 6, 5, 4, 3, 2)
    check = sum(int(d) * w for d, w in zip(number, weights, strict=True)) % 11
    if check == 10:
        return a_child_in_noord()
    return {
        "bsn": number + str(check),
        "date_of_birth": (date.today() - timedelta(days=8 * 365)).isoformat(),
        "postcode": "3124 XY",
        "house_number": str(uuid.uuid4().int % 500 + 1),
    }


async def test_a_worker_takes_a_case_from_signal_to_closure(stack):
    async with httpx.AsyncClient(timeout=10) as client:
        signal = await client.post(
            f"{stack.url('signals')}/api/v1/signals",
            json={
                "source_type": "police",
                "category": "behaviour-aggression",
                "person": a_child_in_noord(),
                "occurred_on": date.today().isoformat(),
            },
            headers=REPORTER,
        )
        assert signal.status_code == 201, signal.text
        cases = f"{stack.url('cases')}/api/v1/cases"

        async def cases_of_person() -> list[dict]:
            response = await client.get(
                cases, params={"person": signal.json()["person"]}, headers=AREA_MANAGER
            )
            return response.json()["items"]

        (case,) = await eventually(cases_of_person, what="the case opened from the signal")
        assert (case["team"], case["programme"], case["status"]) == (
            "wot-noord",
            "early-signalling",
            "open",
        )
        url = f"{cases}/{case['id']}"
        assert (await client.get(url, headers=OTHER_TEAM)).status_code == 404

        async def post(path: str, body: dict, headers: dict = WORKER, expected: int = 200) -> dict:
            response = await client.post(f"{url}{path}", json=body, headers=headers)
            assert response.status_code == expected, response.text
            return response.json()

        case = await post(
            "/assignment", {"worker": "w-e2e-noord", "version": case["version"]}, AREA_MANAGER
        )
        case = await post("/status", {"status": "screening", "version": case["version"]})
        screening = await post(
            "/screenings",
            {
                "instrument": "social-learnability",
                "instrument_version": "1.0",
                "answers": ANSWERS,
                "version": case["version"],
            },
            expected=201,
        )
        assert screening["outcome"] == "start-trajectory" and screening["case_status"] == "active"
        contact = await post(
            "/contacts",
            {
                "kind": "home-visit",
                "reached": True,
                "contact_date": date.today().isoformat(),
                "part_of_day": "afternoon",
                "minutes": 60,
            },
            expected=201,
        )
        refused = await client.post(
            f"{url}/status",
            json={"status": "closed", "version": contact["case_version"]},
            headers=WORKER,
        )
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "outcome"
        closed = await post(
            "/status",
            {"status": "closed", "outcome": "resolved", "version": contact["case_version"]},
        )
        assert (closed["status"], closed["outcome"], closed["overdue"]) == (
            "closed",
            "resolved",
            False,
        )
        timeline = (await client.get(f"{url}/timeline", headers=WORKER)).json()["entries"]
        assert timeline[0]["kind"] == "signal"
        assert {"assigned", "screening-completed", "contact"} <= {e["kind"] for e in timeline}
