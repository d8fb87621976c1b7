"""Every event of every service becomes facts; redelivered events count once;
events that arrive before the case they refer to are counted when it comes;
erasure removes the pseudonym and keeps the figures."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from synthetic import a_case, notification

from buurtsignaal_contracts import new_event
from buurtsignaal_contracts.codes import (
    CaseOutcome,
    CaseStatus,
    ContactKind,
    DeadlineKind,
    Escalation,
    LetterAnswer,
    ScreeningOutcome,
)
from servicekit.testing import eventually, token_for
from servicekit.testing.events import publish

pytestmark = pytest.mark.integration

ANALYST = token_for("an-1", "analyst")
MAY = datetime(2026, 5, 4, 9, tzinfo=UTC)


async def internal(service, period: str = "2026-05", **params) -> dict:
    response = await service.client.get(
        "/api/v1/reports/internal", params={"period": period, **params}, headers=ANALYST
    )
    assert response.status_code == 200, response.text
    return response.json()


def total_row(report: dict) -> dict[str, int]:
    rows = report["rows"]
    return rows[-1]["figures"] if rows else {}


async def acked(service) -> int:
    """Messages the service's consumer has handled and acknowledged (FastStream's count)."""
    return int(
        sum(
            sample.value
            for metric in service.runtime.metrics.registry.collect()
            if metric.name == "faststream_received_processed_messages"
            for sample in metric.samples
            if sample.name.endswith("_total") and sample.labels.get("status") == "acked"
        )
    )


def breakdown(report: dict, measure: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for row in report["breakdowns"]:
        if row["measure"] == measure:
            found[row["code"]] = found.get(row["code"], 0) + row["value"]
    return found


async def test_a_whole_case_story_is_counted_once_even_when_every_event_comes_twice(
    reporting, amqp_connection
):
    case, other = a_case(), a_case(district="noord")
    letter, match = uuid.uuid4(), uuid.uuid4()
    day = MAY.date()
    story = [
        case.signal(),
        other.signal(),
        case.opened(),
        case.assigned(MAY + timedelta(hours=1)),
        case.status(MAY + timedelta(hours=1), CaseStatus.ASSIGNED),
        case.matched(MAY + timedelta(hours=2), match, other.signal_id),
        case.contact(day + timedelta(days=1), 30, ContactKind.PHONE, reached=False),
        case.contact(day + timedelta(days=2), 45, ContactKind.HOME_VISIT, reached=True),
        case.contact(day + timedelta(days=6), 60, ContactKind.HOME_VISIT, reached=True),
        case.screening(MAY + timedelta(days=3), ScreeningOutcome.START_TRAJECTORY),
        case.letter_requested(MAY + timedelta(days=3), letter),
        case.letter_sent(day + timedelta(days=5), letter),
        case.letter_answered(day + timedelta(days=8), letter, LetterAnswer.ACCEPTS_HELP),
        case.breached(
            MAY + timedelta(days=10), DeadlineKind.LETTER_ANSWER, day + timedelta(days=9)
        ),
        case.breached(
            MAY + timedelta(days=12),
            DeadlineKind.LETTER_ANSWER,
            day + timedelta(days=9),
            Escalation.AREA_MANAGER,
        ),
        case.closed(MAY + timedelta(days=20), CaseOutcome.RESOLVED),
        case.reopened(MAY + timedelta(days=22)),
        other.withdrawn(MAY + timedelta(days=1)),
        other.expired(MAY + timedelta(days=2)),
        notification(MAY),
    ]
    events = [new_event(e) for e in story]
    await publish(amqp_connection, *events, *events)  # every event delivered twice

    expected = {
        "signals": 2,
        "persons_signalled": 2,
        "matches": 1,
        "signals_withdrawn": 1,
        "signals_expired": 1,
        "cases_opened": 1,
        "cases_closed": 1,
        "cases_reopened": 1,
        "open_cases": 1,  # opened, closed, reopened
        "assignments": 1,
        "status_changes": 1,
        "screenings": 1,
        "letters_requested": 1,
        "letters_delivered": 1,
        "letter_answers": 1,
        "contacts": 3,
        "contacts_reached": 2,
        "persons_reached": 1,
        "contact_minutes": 135,
        "deadline_breaches": 1,  # one breach, escalated once
        "breaches_escalated": 1,
        "notifications": 1,
    }
    report = await eventually(
        lambda: internal(reporting),
        lambda r: {k: v for k, v in total_row(r).items() if v} == expected,
        what="the whole story, once",
    )
    assert breakdown(report, "contact_minutes") == {"phone": 30, "home-visit": 105}
    assert breakdown(report, "cases_closed") == {"resolved": 1}
    lead = {
        row["stage"]: row for row in report["lead_times"] if row["group"]["district"] == "total"
    }
    # first signal 4 May; first contact that reached them 6 May, screening 7 May, closed 24 May
    assert (lead["first-contact"]["max_days"], lead["screening"]["max_days"]) == (2.0, 3.0)
    assert lead["closure"]["max_days"] == 20.0
    # every delivery has been handled by now, the second copies changed nothing
    await eventually(lambda: acked(reporting), lambda n: n == 2 * len(events), what="all acked")
    assert {k: v for k, v in total_row(await internal(reporting)).items() if v} == expected


async def test_an_event_that_comes_before_its_case_is_counted_when_the_case_arrives(
    reporting, amqp_connection
):
    case = a_case(district="oost")
    contact = new_event(case.contact(MAY.date(), 25))
    await publish(amqp_connection, contact)  # the case is not known yet: retried
    await publish(amqp_connection, new_event(case.signal()), new_event(case.opened()))
    report = await eventually(
        lambda: internal(reporting),
        lambda r: total_row(r).get("contact_minutes") == 25,
        what="the contact",
    )
    assert total_row(report)["contacts"] == 1 and total_row(report)["cases_opened"] == 1
    row = next(r for r in report["rows"] if r["group"]["district"] == "oost")
    assert row["figures"]["contact_minutes"] == 25


async def test_erasure_removes_the_pseudonym_and_keeps_every_figure(reporting, amqp_connection):
    case = a_case()
    await publish(
        amqp_connection,
        new_event(case.signal()),
        new_event(case.opened()),
        new_event(case.contact(MAY.date(), 20)),
    )
    before = await eventually(
        lambda: internal(reporting),
        lambda r: total_row(r).get("persons_reached") == 1,
        what="reach",
    )
    await publish(amqp_connection, new_event(case.erased(MAY + timedelta(days=1))))

    async def mentions() -> int:
        return sum(
            [
                await reporting.db[name].count_documents({"person": case.person})
                for name in ("facts", "signals", "cases")
            ]
        )

    await eventually(mentions, lambda n: n == 0, what="the pseudonym gone")
    after = await internal(reporting)
    assert after["rows"] == before["rows"] and after["lead_times"] == before["lead_times"]
    assert await reporting.db.facts.count_documents({"person": {"$regex": "^erased-"}}) == 3


async def test_team_and_district_come_from_the_area_configuration(reporting, amqp_connection):
    case = a_case(district="nieuwland")
    await publish(amqp_connection, new_event(case.signal()))
    report = await eventually(
        lambda: internal(reporting, group_by="team"),
        lambda r: any(row["group"]["team"] == "wot-zuid" for row in r["rows"]),
        what="the signal by team",
    )
    assert [r["group"]["team"] for r in report["rows"]] == ["wot-zuid", "total"]
    assert date.fromisoformat(report["period"]["first_day"]) == date(2026, 5, 1)
