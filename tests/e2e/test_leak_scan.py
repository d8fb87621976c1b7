"""The leak scan: while a whole scenario runs across the four service processes, every event
on the exchange and every line any service logs is captured, and none may hold a BSN, a
name, a birth date (in any common notation), a postcode or a description from the inputs.

The scenario touches every path that handles personal data: signals from several sources
with descriptions (single and batch intake, with and without a BSN), refused input that
names a person, a match, a case with screening and a contact, the mayor's letter (names
and address fetched across services, rendered, downloaded) and its delivery, an erasure.
"""

from __future__ import annotations

from datetime import date

import aio_pika
import pytest

from servicekit.testing import token_for
from servicekit.testing.scan import scan
from servicekit.testing.tap import EventTap

pytestmark = pytest.mark.e2e

SCHOOL = token_for("r-e2e-school", "reporter", org="obs-de-singel")
POLICE = token_for("r-e2e-police", "reporter", org="politie-schiedam")
TRUANCY = token_for("r-e2e-leerplicht", "reporter", org="leerplicht-schiedam")
ERASED = "nl.buurtsignaal.signals.subject-erased.v1"


def log_offsets(stack) -> dict[str, int]:
    return {name: s.log_path.stat().st_size for name, s in stack.services.items()}


def log_lines_since(stack, offsets: dict[str, int]) -> list[tuple[str, str, str]]:
    lines = []
    for name, service in stack.services.items():
        with service.log_path.open("rb") as log:
            log.seek(offsets[name])
            text = log.read().decode("utf-8", errors="replace")
        lines += [(f"log {name}", str(n), line) for n, line in enumerate(text.splitlines(), 1)]
    return lines


async def refused_input(casework, youth) -> None:
    """Bad input that names a person: refused, and the refusal must not be logged with it."""
    signals = casework.stack.url("signals")
    bad = {
        "source_type": "school",
        "category": "behaviour-aggression",
        "person": {**youth.person(), "bsn": "123456789"},
        "occurred_on": date.today().isoformat(),
        "description": youth.description(),
    }
    response = await casework.client.post(f"{signals}/api/v1/signals", json=bad, headers=SCHOOL)
    assert response.status_code == 422
    assert youth.given_name not in response.text and "123456789" not in response.text
    batch = {"signals": [{**bad, "external_ref": "LEAK-1"}]}
    response = await casework.client.post(
        f"{signals}/api/v1/signals/batch", json=batch, headers=TRUANCY
    )
    assert response.status_code == 200 and response.json()["results"][0]["result"] == "rejected"


async def batch_without_bsn(casework, youth) -> dict:
    signals = casework.stack.url("signals")
    item = {
        "source_type": "compulsory-education-officer",
        "category": "school-absence-relative",
        "person": youth.person(with_bsn=False),
        "occurred_on": date.today().isoformat(),
        "description": youth.description(),
        "external_ref": f"LEAK-{youth.tag}",
    }
    response = await casework.client.post(
        f"{signals}/api/v1/signals/batch", json={"signals": [item]}, headers=TRUANCY
    )
    assert response.status_code == 200, response.text
    (created,) = response.json()["results"]
    assert created["result"] == "created", created
    return created


async def test_no_personal_data_in_any_event_or_log_line(casework):
    stack = casework.stack
    youth, sibling, absent = casework.youth(), casework.youth(), casework.youth()
    offsets = log_offsets(stack)
    connection = await aio_pika.connect_robust(stack.amqp_url)
    try:
        async with EventTap(connection) as tap:
            first = await casework.report(youth, SCHOOL, "school")
            await casework.report(youth, POLICE, "police")  # a match
            await casework.report(sibling, POLICE, "police")
            await batch_without_bsn(casework, absent)
            await refused_input(casework, sibling)
            case = await casework.case_of(first["person"], signals=2, matched=True)
            _, letter_id = await casework.work_on(case)
            await casework.letter_ready(letter_id)
            await casework.deliver(letter_id)
            await tap.wait_for("nl.buurtsignaal.notifications.mayor-letter-sent.v1")
            await tap.wait_for("nl.buurtsignaal.signals.signal-matched.v1")
            await casework.erase(youth)
            (erased,) = await tap.wait_for(
                ERASED, where=lambda e: e["data"]["person"] == first["person"]
            )
            await casework.handled_everywhere(erased["id"])
            await casework.quiet()
            events = [(f"event {m.type}", str(m.message_id), m.body) for m in tap.messages]
    finally:
        await connection.close()
    lines = log_lines_since(stack, offsets)
    kinds = {where.removeprefix("event nl.buurtsignaal.") for where, _, _ in events}
    assert len(kinds) >= 10, f"the scenario covers the chain: {sorted(kinds)}"
    assert lines, "the services logged while the scenario ran"

    needles = {
        f"{who} {label}": value
        for who, person in (("youth", youth), ("sibling", sibling), ("absent", absent))
        for label, value in person.needles().items()
    }
    leaks = scan([*events, *lines], needles)
    assert leaks == [], "\n".join(f"{f.label} in {f.where} #{f.record}" for f in leaks)
