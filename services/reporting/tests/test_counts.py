"""Signals and cases counted per day (Amsterdam time), district, programme and source."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from buurtsignaal_contracts import new_event
from buurtsignaal_contracts.codes import AgeBand, Category, Programme, SourceType
from servicekit.testing import eventually, token_for
from servicekit.testing.events import case_opened, publish, signal_received

pytestmark = pytest.mark.integration

ANALYST = token_for("an-1", "analyst")


def signal(received_at: datetime, district: str = "west"):
    return signal_received(
        source_type=SourceType.POLICE,
        category=Category.POLICE_INCIDENT,
        district=district,
        age_band=AgeBand.AGE_12_TO_17,
        occurred_on=received_at.date(),
        received_at=received_at,
    )


def opened(opened_at: datetime):
    return case_opened(
        programme=Programme.INTENSIVE_YOUTH_WORK,
        source_type=SourceType.POLICE,
        opened_at=opened_at,
        first_signal_at=opened_at,
    )


async def totals(service, first: date, last: date, group_by: str = "district") -> dict[str, dict]:
    response = await service.client.get(
        "/api/v1/reports/totals",
        params={"first_day": first.isoformat(), "last_day": last.isoformat(), "group_by": group_by},
        headers=ANALYST,
    )
    assert response.status_code == 200, response.text
    return {row["group"]: row for row in response.json()["rows"]}


async def test_counts_per_district_and_a_redelivered_event_counts_once(reporting, amqp_connection):
    moment = datetime(2026, 6, 10, 12, tzinfo=UTC)
    twice = new_event(signal(moment))
    await publish(
        amqp_connection,
        twice,
        twice,
        new_event(signal(moment, "noord")),
        new_event(opened(moment)),
    )
    rows = await eventually(
        lambda: totals(reporting, date(2026, 6, 10), date(2026, 6, 10)),
        lambda r: (
            sum(x["signals"] for x in r.values()) == 2
            and "west" in r
            and r["west"]["cases_opened"] == 1
        ),
        what="the counts",
    )
    assert rows["west"]["signals"] == 1 and rows["noord"]["signals"] == 1


async def test_days_are_amsterdam_days_on_both_sides_of_the_clock_change(
    reporting, amqp_connection
):
    # Summer time starts on 29 March 2026 at 01:00 UTC: Amsterdam is UTC+1 before, UTC+2 after.
    moments = {
        datetime(2026, 3, 28, 22, 30, tzinfo=UTC): date(2026, 3, 28),  # 23:30 CET
        datetime(2026, 3, 28, 23, 30, tzinfo=UTC): date(2026, 3, 29),  # 00:30 CET
        datetime(2026, 3, 29, 22, 30, tzinfo=UTC): date(2026, 3, 30),  # 00:30 CEST
    }
    await publish(amqp_connection, *(new_event(signal(m)) for m in moments))
    await eventually(
        lambda: totals(reporting, date(2026, 3, 27), date(2026, 3, 31)),
        lambda r: r.get("west", {}).get("signals") == 3,
        what="three signals",
    )
    for day in moments.values():
        assert (await totals(reporting, day, day))["west"]["signals"] == 1, day


async def test_reports_need_an_aggregate_role_and_a_sane_period(reporting):
    worker = token_for("w", "worker", teams=["wot-west"])
    params = {"first_day": "2026-01-02", "last_day": "2026-01-01"}
    assert (
        await reporting.client.get("/api/v1/reports/totals", params=params, headers=worker)
    ).status_code == 403
    backwards = await reporting.client.get("/api/v1/reports/totals", params=params, headers=ANALYST)
    assert (
        backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "query.last_day"
    )
