"""Matching, reads through cases and the CSV import, across the four service processes."""

from __future__ import annotations

import csv
import subprocess
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

import aio_pika
import httpx
import pytest

from servicekit.testing import eventually, token_for
from servicekit.testing.tap import EventTap

pytestmark = pytest.mark.e2e

SCHOOL = token_for("r-e2e-school", "reporter", org="obs-e2e-school")
POLICE = token_for("p-e2e-police", "reporter", org="politie-e2e")
NOORD_WORKER = token_for("w-e2e-noord", "worker", teams=["wot-noord"])
WEST_WORKER = token_for("w-e2e-west", "worker", teams=["wot-west"])
MATCHED = "nl.buurtsignaal.signals.signal-matched.v1"
RECEIVED = "nl.buurtsignaal.signals.signal-received.v1"


def a_youth_in_noord() -> dict:
    number = f"9999{uuid.uuid4().int % 10**4:04d}"
    weights = (9, 8, 7, 6, 5, 4, 3, 2)
    check = sum(int(d) * w for d, w in zip(number, weights, strict=True)) % 11
    if check == 10:
        return a_youth_in_noord()
    return {
        "bsn": number + str(check),
        "date_of_birth": (date.today() - timedelta(days=13 * 365)).isoformat(),
        "postcode": "3124 XY",
        "house_number": str(uuid.uuid4().int % 500 + 1),
    }


async def submit(stack, headers: dict, person: dict, **changes) -> dict:
    body = {
        "source_type": "school",
        "category": "behaviour-aggression",
        "person": person,
        "occurred_on": date.today().isoformat(),
        "description": "Synthetisch e2e-signaal.",
        **changes,
    }
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{stack.url('signals')}/api/v1/signals", json=body, headers=headers
        )
    assert response.status_code == 201, response.text
    return response.json()


async def get(stack, service: str, path: str, headers: dict, **params) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5) as client:
        return await client.get(f"{stack.url(service)}{path}", headers=headers, params=params)


async def test_a_school_and_the_police_about_one_youth_give_one_match_and_one_case(stack):
    youth = a_youth_in_noord()
    async with await aio_pika.connect_robust(stack.amqp_url) as connection:
        async with EventTap(connection, "signals.#") as tap:
            school = await submit(stack, SCHOOL, youth)
            police = await submit(
                stack, POLICE, youth, source_type="police", category="police-incident"
            )
            # A later signal of the school (no match) is published after anything the
            # police signal caused: once it is seen, every match event has been too.
            later = await submit(stack, SCHOOL, youth, category="behaviour-vandalism")
            await tap.wait_for(RECEIVED, where=lambda e: e["subject"] == later["id"])
        matches = [e for e in tap.events(MATCHED) if e["data"]["person"] == school["person"]]
    assert len(matches) == 1
    (match,) = matches
    assert match["data"]["joining_signal_id"] == police["id"]
    assert [p["organisation"] for p in match["data"]["participants"]] == [
        "obs-e2e-school",
        "politie-e2e",
    ]

    cases = await eventually(
        lambda: get(stack, "cases", "/api/v1/cases", NOORD_WORKER, person=school["person"]),
        lambda r: (
            r.status_code == 200
            and len(r.json()["items"]) == 1
            and len(r.json()["items"][0]["signals"]) == 3
        ),
        what="one case holding the three signals",
    )
    assert len(cases.json()["items"]) == 1

    # The team of the case reads the police signal through its case; another team does not.
    read = await eventually(
        lambda: get(stack, "signals", f"/api/v1/signals/{police['id']}", NOORD_WORKER),
        lambda r: r.status_code == 200,
        what="the case worker's access to the signals",
    )
    assert read.json()["description"] == "Synthetisch e2e-signaal."
    assert read.json()["matched_with"] == [
        {"organisation": "obs-e2e-school", "professional": "r-e2e-school"}
    ]
    other = await get(stack, "signals", f"/api/v1/signals/{police['id']}", WEST_WORKER)
    assert other.status_code == 404


def test_the_csv_command_imports_once_and_reports_bad_rows(stack, tmp_path: Path):
    path = tmp_path / "signalen.csv"
    good = [a_youth_in_noord(), a_youth_in_noord()]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "source_type",
                "category",
                "occurred_on",
                "bsn",
                "date_of_birth",
                "postcode",
                "house_number",
            ]
        )
        for youth in good:
            writer.writerow(
                [
                    "school",
                    "loneliness",
                    date.today().isoformat(),
                    youth["bsn"],
                    youth["date_of_birth"],
                    youth["postcode"],
                    youth["house_number"],
                ]
            )
        writer.writerow(
            [
                "school",
                "loneliness",
                date.today().isoformat(),
                "123456789",
                good[0]["date_of_birth"],
                "3124 XY",
                "1",
            ]
        )
    token = SCHOOL["Authorization"].removeprefix("Bearer ")
    command = [
        sys.executable,
        "-m",
        "signals_service.import_csv",
        str(path),
        "--url",
        stack.url("signals"),
        "--token",
        token,
        "--no-progress",
    ]
    first = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert first.returncode == 1, first.stderr
    assert "3 rows: 2 imported, 0 imported before, 1 refused" in first.stdout
    assert "row 4: person.bsn:" in first.stdout
    again = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert "3 rows: 0 imported, 2 imported before, 1 refused" in again.stdout
