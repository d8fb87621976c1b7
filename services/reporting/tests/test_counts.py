"""Signals and cases counted per day (Amsterdam time), district, programme and source."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import aio_pika
import pytest
from buurtsignaal_contracts import CLOUDEVENTS_CONTENT_TYPE, new_event
from buurtsignaal_contracts.codes import AgeBand, Category, Programme, SourceType
from buurtsignaal_contracts.events import CaseOpened, SignalReceived
from servicekit.testing import eventually, token_for
from servicekit.topology import declare_shared

pytestmark = pytest.mark.integration

ANALYST = token_for("an-1", "analyst")


def signal(received_at: datetime, district: str = "west") -> SignalReceived:
    return SignalReceived(
        signal_id=uuid.uuid4(),
        person="ps-" + uuid.uuid4().hex,
        source_type=SourceType.POLICE,
        reporting_org="politie-schiedam",
        category=Category.POLICE_INCIDENT,
        district=district,
        age_band=AgeBand.AGE_12_TO_17,
        occurred_on=received_at.date(),
        received_at=received_at,
    )


def case_opened(opened_at: datetime) -> CaseOpened:
    return CaseOpened(
        case_id=uuid.uuid4(),
        team="wot-west",
        programme=Programme.INTENSIVE_YOUTH_WORK,
        district="west",
        person="ps-" + uuid.uuid4().hex,
        signal_id=uuid.uuid4(),
        source_type=SourceType.POLICE,
        opened_at=opened_at,
        first_signal_at=opened_at,
    )


async def publish(connection, *events) -> None:
    channel = await connection.channel(publisher_confirms=True)
    exchange = await declare_shared(channel)
    for event in events:
        await exchange.publish(
            aio_pika.Message(
                event.to_json_bytes(),
                message_id=str(event.id),
                type=event.type,
                content_type=CLOUDEVENTS_CONTENT_TYPE,
                delivery_mode=2,
            ),
            routing_key=event.data.routing_key(),
        )
    await channel.close()


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
        new_event(case_opened(moment)),
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
