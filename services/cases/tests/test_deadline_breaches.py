"""Overdue cases raise deadline-breached on the right working day: across Easter, King's
Day and Christmas, to the worker after the due day and to the area manager after the
multiple, each exactly once. The job runs at moments the test chooses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cases_service.app import definition
from cases_service.deadline_watch import tell_deadline_breaches
from cases_service.testing import WEST_WORKER, CasesApi
from servicekit.clock import FixedClock
from servicekit.testing.service import running_service
from servicekit.testing.tap import EventTap

pytestmark = pytest.mark.integration

BREACHED = "nl.buurtsignaal.cases.deadline-breached.v1"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMSTERDAM).astimezone(UTC)


@pytest.mark.parametrize(
    ("received_on", "due_on", "escalates_on"),
    [
        # Good Friday 26 and Easter Monday 29 March 2027 do not count.
        (date(2027, 3, 25), date(2027, 4, 5), date(2027, 4, 12)),
        # King's Day (27 April) and Ascension Day (6 May 2027) do not count.
        (date(2027, 4, 23), date(2027, 5, 3), date(2027, 5, 11)),
        # Christmas Day, Boxing Day (a Saturday) and New Year's Day 2027 do not count.
        (date(2026, 12, 24), date(2027, 1, 4), date(2027, 1, 11)),
    ],
    ids=["easter", "kings-day", "christmas"],
)
async def test_a_missed_first_contact_is_told_on_the_right_day_to_the_right_people(
    clocked_api, clock, amqp_connection, received_on, due_on, escalates_on
):
    clock.set(local(received_on, 10, 5))
    case = await clocked_api.open_case(amqp_connection, received_at=local(received_on, 10))
    case = (await clocked_api.assign(case, "w-west")).json()
    first_contact = next(d for d in case["deadlines"] if d["kind"] == "first-contact")
    assert (first_contact["due_on"], first_contact["escalates_on"]) == (
        due_on.isoformat(),
        escalates_on.isoformat(),
    )
    runtime = clocked_api.service.runtime

    async with EventTap(amqp_connection) as tap:
        assert await tell_deadline_breaches(runtime, local(due_on, 23, 59)) == 0
        assert await overdue_ids(clocked_api, clock, local(due_on, 23, 59)) == []

        breach_moment = local(due_on + timedelta(days=1), 0, 1)
        assert await tell_deadline_breaches(runtime, breach_moment) == 1
        (to_worker,) = await tap.wait_for(BREACHED, where=lambda e: e["subject"] == case["id"])
        assert await tell_deadline_breaches(runtime, breach_moment + timedelta(hours=3)) == 0
        assert await overdue_ids(clocked_api, clock, breach_moment) == [case["id"]]

        assert await tell_deadline_breaches(runtime, local(escalates_on, 23, 59)) == 0
        assert (
            await tell_deadline_breaches(runtime, local(escalates_on + timedelta(days=1), 0, 1))
            == 1
        )
        breaches = await tap.wait_for(BREACHED, 2, where=lambda e: e["subject"] == case["id"])
        assert (
            await tell_deadline_breaches(runtime, local(escalates_on + timedelta(days=2), 9)) == 0
        )

    assert to_worker["data"] == {
        **to_worker["data"],
        "deadline": "first-contact",
        "due_on": due_on.isoformat(),
        "escalation": "worker",
        "worker": "w-west",
        "area_manager": "am-02",
        "team": "wot-west",
        "programme": "early-signalling",
    }
    detected = datetime.fromisoformat(to_worker["data"]["detected_at"].replace("Z", "+00:00"))
    assert detected == breach_moment
    to_manager = breaches[1]
    assert to_manager["data"]["escalation"] == "area-manager"
    assert to_manager["data"]["due_on"] == due_on.isoformat()
    assert len(tap.events(BREACHED)) == 2, "each told exactly once"
    told = next(
        d for d in (await clocked_api.case(case["id"]))["deadlines"] if d["kind"] == "first-contact"
    )
    assert told["state"] == "overdue" and told["worker_told_at"] and told["area_manager_told_at"]


async def test_a_met_deadline_and_a_closed_case_raise_nothing(clocked_api, clock, amqp_connection):
    received_on = date(2027, 3, 25)
    clock.set(local(received_on, 10, 5))
    met = (
        await clocked_api.assign(
            await clocked_api.open_case(amqp_connection, received_at=local(received_on, 10))
        )
    ).json()
    closed = (
        await clocked_api.assign(
            await clocked_api.open_case(amqp_connection, received_at=local(received_on, 10))
        )
    ).json()
    clock.set(local(date(2027, 3, 30), 15))
    contact = {
        "kind": "home-visit",
        "reached": True,
        "contact_date": "2027-03-30",
        "part_of_day": "afternoon",
        "minutes": 40,
    }
    response = await clocked_api.client.post(
        f"/api/v1/cases/{met['id']}/contacts", json=contact, headers=WEST_WORKER
    )
    assert response.status_code == 201, response.text
    assert (await clocked_api.move(closed, "closed", outcome="moved-away")).status_code == 200
    runtime = clocked_api.service.runtime
    async with EventTap(amqp_connection) as tap:
        # After both first-contact deadlines (5 April) and the area manager's (12 April):
        # only the screening deadline of the open case (due 19 April) is left to breach.
        assert await tell_deadline_breaches(runtime, local(date(2027, 4, 13), 9)) == 0
        assert await tell_deadline_breaches(runtime, local(date(2027, 4, 20), 9)) == 1
        (breach,) = await tap.wait_for(BREACHED)
    assert (breach["subject"], breach["data"]["deadline"]) == (met["id"], "screening")


async def test_the_scheduler_runs_the_job_on_the_service_clock(cases_settings, amqp_connection):
    clock = FixedClock(local(date(2027, 3, 25), 10, 5))
    settings = cases_settings(deadline_check_interval=0.2)
    async with running_service(definition(settings), clock) as service:
        api = CasesApi(service)
        case = await api.open_case(amqp_connection, received_at=local(date(2027, 3, 25), 10))
        async with EventTap(amqp_connection) as tap:
            clock.set(local(date(2027, 4, 6), 0, 1))  # the day after the due day
            (breach,) = await tap.wait_for(BREACHED, where=lambda e: e["subject"] == case["id"])
        assert breach["data"]["worker"] is None, "no worker yet: the team's case, told as such"
        assert breach["data"]["escalation"] == "worker"
        metrics = (await service.client.get("/metrics")).text
        assert 'buurtsignaal_cases_deadline_breaches_told_total{escalation="worker"} 1.0' in metrics


async def overdue_ids(api: CasesApi, clock: FixedClock, moment: datetime) -> list[str]:
    clock.set(moment)
    response = await api.client.get(
        "/api/v1/cases", params={"overdue": "true"}, headers=WEST_WORKER
    )
    return [c["id"] for c in response.json()["items"]]
