"""Erasure across the four service processes: afterwards no collection of any service
database holds anything of the person, the other person's data is untouched, and the
report figures are exactly what they were."""

from __future__ import annotations

import aio_pika
import pytest

from servicekit.testing import token_for
from servicekit.testing.scan import scan_databases
from servicekit.testing.tap import EventTap

pytestmark = pytest.mark.e2e

SCHOOL = token_for("r-e2e-school", "reporter", org="obs-de-singel")
POLICE = token_for("r-e2e-police", "reporter", org="politie-schiedam")
WEST_WORKER = token_for("w-west-1", "worker", teams=["wot-west"])
ERASED = "nl.buurtsignaal.signals.subject-erased.v1"
PROCESSING_LOGS = {"audit_log", "access_trail"}  # access_trail: the others' logs, collected


def processing_log_may_keep(database: str, collection: str, label: str) -> bool:
    """The processing logs (NEN 7513; in signals also the trail collected from the other
    services' logs) keep who did what to which pseudonym and record: a legal record
    that names nobody once the person's identity and key are gone. The
    reporting projection keeps the ids of the signals and cases it counted, with a
    surrogate instead of the pseudonym, so that every figure stays the same."""
    if collection in PROCESSING_LOGS:
        return label == "pseudonym" or label.endswith(" id")
    return database.endswith("_reporting") and label.endswith(" id")


async def is_processing_event(mongo, finding) -> bool:
    """The erasure's own entries in the processing log go out as personal-data-processed
    events (for the person's access trail): their outbox records name the pseudonym and
    record ids only, like the log itself, and expire with the outbox."""
    database, collection = finding.where.split(".", 1)
    if collection != "outbox" or not (
        finding.label == "pseudonym" or finding.label.endswith(" id")
    ):
        return False
    record = await mongo[database][collection].find_one({"_id": finding.record}, {"type": 1})
    return record is not None and record["type"].endswith(".personal-data-processed.v1")


async def test_an_erased_person_leaves_nothing_in_any_database(casework):
    stack = casework.stack
    erased, other = casework.youth(), casework.youth()
    first = await casework.report(erased, SCHOOL, "school")
    second = await casework.report(erased, POLICE, "police")  # a match: two organisations
    kept = await casework.report(other, SCHOOL, "school")
    pseudonym = first["person"]
    case = await casework.case_of(pseudonym, signals=2, matched=True)
    other_case = await casework.case_of(kept["person"])
    _, letter_id = await casework.work_on(case)
    await casework.letter_ready(letter_id)  # the PDF with names and address exists now

    needles = {
        **erased.needles(),
        "pseudonym": pseudonym,
        "signal 1 id": first["id"],
        "signal 2 id": second["id"],
        "case id": case["id"],
        "letter id": letter_id,
    }
    await casework.quiet()
    held = await scan_databases(casework.mongo, casework.databases, needles)
    held_where = {f.where.split(".")[0] for f in held}
    assert held_where == set(casework.databases), "every service holds something about the person"
    assert not [f for f in held if not f.label.endswith(("id", "pseudonym"))], (
        "identifying values are never stored in plain text, even before the erasure"
    )
    figures = await casework.report_figures()

    connection = await aio_pika.connect_robust(stack.amqp_url)
    try:
        async with EventTap(connection) as tap:
            done = await casework.erase(erased)
            (event,) = await tap.wait_for(ERASED, where=lambda e: e["data"]["person"] == pseudonym)
    finally:
        await connection.close()
    assert event["data"]["erasure_id"] == done["erasure_id"] and done["signals_removed"] == 2
    await casework.handled_everywhere(event["id"])
    await casework.quiet()

    found = await scan_databases(
        casework.mongo, casework.databases, needles, processing_log_may_keep
    )
    left = [f for f in found if not await is_processing_event(casework.mongo, f)]
    assert left == [], "\n".join(f"{f.label} in {f.where} ({f.record})" for f in left)
    assert await casework.report_figures() == figures, "the reports stay as they were"

    # The other person: signal, description, case and letter access as before.
    signals_url = f"{stack.url('signals')}/api/v1/signals/{kept['id']}"
    shown = await casework.client.get(signals_url, headers=SCHOOL)
    assert shown.status_code == 200 and shown.json()["description"] == other.descriptions[0]
    still = await casework.case_of(kept["person"])
    assert still["id"] == other_case["id"]
    letters = await casework.client.get(
        f"{stack.url('notifications')}/api/v1/letters/{letter_id}", headers=WEST_WORKER
    )
    assert letters.status_code == 404
