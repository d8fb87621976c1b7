"""The reports API: periods in Amsterdam time, groupings, JSON and CSV, who may
see what, the work plan."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from synthetic import a_case

from buurtsignaal_contracts import new_event
from buurtsignaal_contracts.codes import ContactKind, Programme, SourceType
from servicekit.testing import eventually, token_for
from servicekit.testing.events import publish

pytestmark = pytest.mark.integration

ANALYST = token_for("an-1", "analyst")
AREA_MANAGER_WEST = token_for("am-02", "area-manager", teams=["wot-west"])
WORKER = token_for("w-1", "worker", teams=["wot-west"])


async def get(service, path: str, headers=ANALYST, **params):
    return await service.client.get(f"/api/v1/reports/{path}", params=params, headers=headers)


def signals_in(report: dict) -> int:
    return report["rows"][-1]["figures"]["signals"] if report["rows"] else 0


async def test_periods_follow_amsterdam_days_across_clock_changes_and_the_year_end(
    reporting, amqp_connection
):
    moments = [
        datetime(2026, 3, 31, 21, 30, tzinfo=UTC),  # 23:30 CEST: March, Q1
        datetime(2026, 3, 31, 22, 30, tzinfo=UTC),  # 00:30 CEST: April, Q2
        datetime(2026, 10, 31, 22, 30, tzinfo=UTC),  # 23:30 CET: October
        datetime(2026, 10, 31, 23, 30, tzinfo=UTC),  # 00:30 CET: November
        datetime(2026, 12, 31, 23, 30, tzinfo=UTC),  # 00:30 CET: 2027
    ]
    await publish(
        amqp_connection, *(new_event(a_case(first_signal_at=m).signal()) for m in moments)
    )

    async def count(period: str) -> int:
        response = await get(reporting, "internal", period=period)
        assert response.status_code == 200, response.text
        return signals_in(response.json())

    await eventually(lambda: count("2027"), lambda n: n == 1, what="the new-year signal")
    expected = {
        "2026-03": 1,
        "2026-04": 1,
        "2026-Q1": 1,
        "2026-Q2": 1,
        "2026-10": 1,
        "2026-11": 1,
        "2026-12": 0,
        "2026": 4,
    }
    assert {p: await count(p) for p in expected} == expected
    march = (await get(reporting, "internal", period="2026-03")).json()["period"]
    assert march["starts_at"].startswith("2026-02-28T23:00") and march["ends_before"].startswith(
        "2026-03-31T22:00"
    )
    custom = await get(reporting, "internal", first_day="2026-03-31", last_day="2026-04-01")
    assert signals_in(custom.json()) == 2


async def test_grouping_by_several_dimensions_and_csv(reporting, amqp_connection):
    west = a_case("west", Programme.EARLY_SIGNALLING, SourceType.SCHOOL)
    noord = a_case("noord", Programme.TRUANCY_TASKFORCE, SourceType.POLICE)
    await publish(amqp_connection, *(new_event(c.signal()) for c in (west, noord)))
    response = await eventually(
        lambda: get(reporting, "internal", period="2026-05", group_by=["district", "source"]),
        lambda r: signals_in(r.json()) == 2,
        what="two signals",
    )
    groups = [row["group"] for row in response.json()["rows"]]
    assert groups == [
        {"district": "noord", "source": "police"},
        {"district": "west", "source": "school"},
        {"district": "total", "source": "total"},
    ]
    as_csv = await get(reporting, "internal", period="2026-05", group_by="programme", format="csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(as_csv.text)))
    signals = {r["programme"]: r["value"] for r in lines if r["measure"] == "signals"}
    assert signals == {"early-signalling": "1", "truancy-taskforce": "1", "total": "2"}
    by_accept = await reporting.client.get(
        "/api/v1/reports/internal",
        params={"period": "2026-05"},
        headers={**ANALYST, "Accept": "text/csv"},
    )
    assert by_accept.text.startswith("measure,code,district,value")


async def test_who_sees_what(reporting, amqp_connection):
    await publish(
        amqp_connection,
        *(new_event(a_case(d).signal()) for d in ("west", "west", "noord")),
    )
    await eventually(
        lambda: get(reporting, "internal", period="2026-05"),
        lambda r: signals_in(r.json()) == 3,
        what="three signals",
    )
    for path, params in [
        ("internal", {"period": "2026-05"}),
        ("public", {"period": "2026-05"}),
        ("work-plan", {"period": "2026"}),
        ("totals", {"first_day": "2026-05-01", "last_day": "2026-05-31"}),
    ]:
        response = await get(reporting, path, headers=WORKER, **params)
        assert response.status_code == 403, path
    mine = (await get(reporting, "internal", headers=AREA_MANAGER_WEST, period="2026-05")).json()
    assert mine["teams"] == ["wot-west"] and signals_in(mine) == 2
    assert [r["group"]["district"] for r in mine["rows"]] == ["west", "total"]
    totals = await get(
        reporting,
        "totals",
        headers=AREA_MANAGER_WEST,
        first_day="2026-05-01",
        last_day="2026-05-31",
    )
    assert [r["group"] for r in totals.json()["rows"]] == ["west"]
    everything = (await get(reporting, "internal", period="2026-05")).json()
    assert everything["teams"] is None and signals_in(everything) == 3


async def test_bad_periods_name_the_field(reporting):
    cases = [
        ({"period": "2026-13"}, "query.period"),
        ({"period": "2026", "first_day": "2026-01-01"}, "query.period"),
        ({"first_day": "2026-01-01"}, "query.last_day"),
        ({"first_day": "2026-02-01", "last_day": "2026-01-01"}, "query.last_day"),
        ({"period": "2026", "group_by": ["district", "district"]}, "query.group_by"),
    ]
    for params, field in cases:
        response = await get(reporting, "internal", **params)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["field"] == field, params
    custom = await get(reporting, "public", first_day="2026-01-01", last_day="2026-01-31")
    assert custom.status_code == 422 and custom.json()["errors"][0]["field"] == "query.period"


async def test_the_work_plan_adds_minutes_up_to_hours(reporting, amqp_connection):
    west, oost = a_case("west"), a_case("oost", Programme.NEIGHBOURHOOD_TEAM)
    day = date(2026, 5, 6)
    contacts = [
        west.contact(day, 45, ContactKind.HOME_VISIT),
        west.contact(day, 20, ContactKind.PHONE, reached=False),
        west.contact(day, 50, ContactKind.HOME_VISIT),
        oost.contact(day, 30, ContactKind.PHONE),
    ]
    await publish(
        amqp_connection,
        *(new_event(e) for c in (west, oost) for e in (c.signal(), c.opened())),
        *(new_event(c) for c in contacts),
    )
    response = await eventually(
        lambda: get(reporting, "work-plan", period="2026"),
        lambda r: r.json()["total"]["minutes"] == 145,
        what="every minute",
    )
    plan = response.json()
    rows = {(r["district"], r["programme"], r["activity"]): r for r in plan["rows"]}
    assert rows["west", "intensive-youth-work", "home-visit"]["minutes"] == 95
    assert rows["west", "intensive-youth-work", "home-visit"]["hours"] == 1.58
    assert rows["oost", "neighbourhood-team", "phone"]["contacts"] == 1
    assert plan["total"]["hours"] == round(145 / 60, 2)
    assert {r["district"]: r["minutes"] for r in plan["by_district"]} == {"oost": 30, "west": 115}
    assert {r["activity"]: r["minutes"] for r in plan["by_activity"]} == {
        "home-visit": 95,
        "phone": 50,
    }
    as_csv = await get(reporting, "work-plan", period="2026", format="csv")
    lines = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert sum(int(r["minutes"]) for r in lines if r["district"] != "total") == 145
    assert lines[-1]["minutes"] == "145"
