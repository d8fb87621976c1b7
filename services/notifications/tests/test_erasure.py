"""subject-erased: every inbox item and delivery about the person or their cases goes, and
what this service learned about their cases; others' items stay."""

from __future__ import annotations

import pytest

from buurtsignaal_contracts import new_event
from servicekit.outbox import OUTBOX
from servicekit.testing import eventually
from servicekit.testing.event_factories import (
    case_assigned,
    deadline_breached,
    signal_matched,
    subject_erased,
)
from servicekit.testing.events import case_opened, publish

pytestmark = pytest.mark.integration


async def about(service, person: str, case_id: str) -> dict[str, int]:
    db = service.db
    either = {"$or": [{"person": person}, {"case_id": case_id}]}
    return {
        "notifications": await db.notifications.count_documents(either),
        "deliveries": await db.deliveries.count_documents(either),
        "case_assignments": await db.case_assignments.count_documents({"_id": case_id}),
        "case_persons": await db.case_persons.count_documents({"_id": case_id}),
    }


async def test_erasure_removes_inbox_items_and_deliveries_about_the_person(
    notifications, amqp_connection
):
    opened = case_opened()
    other = case_opened()
    person, case_id = opened.person, opened.case_id
    events = [
        new_event(opened),
        new_event(other),
        new_event(case_assigned(case_id=case_id, worker="w-west-1")),
        new_event(deadline_breached(case_id=case_id, worker="w-west-1")),
        new_event(signal_matched(person=person)),
    ]
    await publish(amqp_connection, *events)
    # The events are handled concurrently: wait until every one of them has left its mark.
    await eventually(
        lambda: about(notifications, person, str(case_id)),
        lambda counts: counts["notifications"] >= 4
        and counts["deliveries"] >= 3
        and counts["case_assignments"] == counts["case_persons"] == 1,
        what="items, deliveries, the assignment and the case's person",
    )
    before_other = await eventually(
        lambda: about(notifications, other.person, str(other.case_id)),
        lambda counts: counts["notifications"] >= 1 and counts["case_persons"] == 1,
        what="the other person's case",
    )

    await publish(amqp_connection, new_event(subject_erased(person=person)))
    await eventually(
        lambda: about(notifications, person, str(case_id)),
        lambda counts: set(counts.values()) == {0},
        what="everything about the person gone",
    )
    assert await about(notifications, other.person, str(other.case_id)) == before_other
    published = await notifications.db[OUTBOX].find({"published_at": {"$ne": None}}).to_list()
    assert not [r for r in published if person.encode() in r["body"]]
