"""Business metrics derived from the projection (right after a restart), and a
rebuild from the archive stream that ends with the live projection's figures."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import aio_pika
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pymongo import AsyncMongoClient
from synthetic import a_case, a_year, notification

from buurtsignaal_contracts import new_event
from buurtsignaal_contracts.codes import (
    CaseOutcome,
    DeadlineKind,
    Escalation,
    Programme,
    SourceType,
)
from reporting_service.app import definition
from reporting_service.rebuild import TargetNotEmpty, rebuild
from reporting_service.settings import ReportingSettings
from servicekit.testing import eventually, token_for
from servicekit.testing.events import publish
from servicekit.testing.fixtures import isolated_vhost
from servicekit.testing.service import running_service

pytestmark = pytest.mark.integration

ANALYST = token_for("an-1", "analyst")
MAY = datetime(2026, 5, 4, 9, tzinfo=UTC)


async def scrape(service) -> dict[tuple[str, tuple], float]:
    text = (await service.client.get("/metrics")).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


async def test_business_metrics_come_from_the_projection_and_survive_a_restart(
    reporting_settings, amqp_connection
):
    west = a_case("west", Programme.EARLY_SIGNALLING, SourceType.SCHOOL)
    noord = a_case("noord", Programme.TRUANCY_TASKFORCE, SourceType.POLICE)
    events = [
        west.signal(),
        noord.signal(),
        west.opened(),
        noord.opened(),
        west.contact(date(2026, 5, 7), 30),
        west.breached(MAY + timedelta(days=4), DeadlineKind.FIRST_CONTACT, date(2026, 5, 6)),
        west.breached(
            MAY + timedelta(days=6),
            DeadlineKind.FIRST_CONTACT,
            date(2026, 5, 6),
            Escalation.AREA_MANAGER,
        ),
        noord.closed(MAY + timedelta(days=10), CaseOutcome.RESOLVED),
    ]
    async with running_service(definition(reporting_settings)) as service:
        await publish(amqp_connection, *(new_event(e) for e in events))
        # Events of one batch are handled concurrently and some wait for their
        # case (NotYetProjected, retried): wait until every figure has arrived.
        expected = [
            (
                ("buurtsignaal_cases_closed_total",),
                {"team": "wot-noord", "programme": "truancy-taskforce"},
                1,
            ),
            (("buurtsignaal_signals_received_total",), {"source": "school", "district": "west"}, 1),
            (
                ("buurtsignaal_deadline_breaches_total",),
                {"team": "wot-west", "deadline": "first-contact"},
                1,
            ),
            (
                ("buurtsignaal_lead_time_days_count",),
                {"stage": "first-contact", "programme": "early-signalling"},
                1,
            ),
        ]
        samples = await eventually(
            lambda: scrape(service),
            lambda s: all(value(s, name, **labels) == want for (name,), labels, want in expected),
            what="the metrics",
        )
    open_west = {"team": "wot-west", "programme": "early-signalling"}
    open_noord = {"team": "wot-noord", "programme": "truancy-taskforce"}
    assert value(samples, "buurtsignaal_open_cases", **open_west) == 1
    assert value(samples, "buurtsignaal_open_cases", **open_noord) == 0
    first_contact = {"stage": "first-contact", "programme": "early-signalling"}
    assert value(samples, "buurtsignaal_lead_time_days_bucket", **first_contact, le="2.0") == 0
    assert value(samples, "buurtsignaal_lead_time_days_bucket", **first_contact, le="5.0") == 1
    assert value(samples, "buurtsignaal_lead_time_days_sum", **first_contact) == 3

    # a new process on the same projection knows the open cases before any new event
    async with running_service(definition(reporting_settings)) as restarted:
        again = await eventually(
            lambda: scrape(restarted),
            lambda s: value(s, "buurtsignaal_open_cases", **open_west) is not None,
            what="the gauges after a restart",
        )
        assert value(again, "buurtsignaal_open_cases", **open_west) == 1
        assert (
            value(again, "buurtsignaal_signals_received_total", source="police", district="noord")
            == 1
        )
        assert value(again, "buurtsignaal_business_metrics_refreshed_timestamp_seconds") > 0


@pytest.fixture
async def own_archive(amqp_base_url, mongodb_url):
    """A vhost of its own, so the archive stream holds only this test's events."""
    with isolated_vhost(amqp_base_url) as url:
        yield url


async def test_a_rebuild_from_the_archive_ends_with_the_live_figures(own_archive, mongodb_url):
    live_db, rebuilt_db = (
        f"test_live_{uuid.uuid4().hex[:8]}",
        f"test_rebuilt_{uuid.uuid4().hex[:8]}",
    )
    settings = ReportingSettings(
        amqp_url=own_archive,
        mongodb_url=mongodb_url,
        mongodb_database=live_db,
        retry_backoff_initial=0.05,
        retry_backoff_max=0.2,
    )
    year = a_year(2026, signals=60, seed=11)
    erased = a_case("zuid")
    extra = [erased.signal(), erased.opened(), erased.erased(MAY), notification(MAY)]
    events = [*year.events, *(new_event(e) for e in extra)]
    connection = await aio_pika.connect_robust(own_archive)
    try:
        async with running_service(definition(settings)) as live:

            async def minutes() -> int:
                response = await live.client.get(
                    "/api/v1/reports/work-plan", params={"period": "2026"}, headers=ANALYST
                )
                return response.json()["total"]["minutes"]

            # every event twice, as an outbox may publish after a crash: the archive has both
            await publish(connection, *events, *events[:100])
            await eventually(minutes, lambda m: m == year.minutes, timeout=60, what="the live year")
            await eventually(
                lambda: live.db.facts.count_documents({"person": erased.person}),
                lambda n: n == 0,
                what="the erasure",
            )
    finally:
        await connection.close()

    result = await rebuild(
        settings.model_copy(update={"mongodb_database": rebuilt_db}), show_progress=False
    )
    assert (result.read, result.failed) == (len(events) + 100, [])
    assert (result.applied, result.duplicates) == (len(events), 100)

    client = AsyncMongoClient(mongodb_url, tz_aware=True, uuidRepresentation="standard")
    try:
        for collection in ("facts", "signals", "cases", "persons"):
            live_docs = await client[live_db][collection].find({}).sort("_id", 1).to_list()
            rebuilt_docs = await client[rebuilt_db][collection].find({}).sort("_id", 1).to_list()
            assert len(live_docs) > 0 and rebuilt_docs == live_docs, collection
        assert result.totals["contact_minutes"] == year.minutes
        assert result.totals["signals"] == year.signals + 1
    finally:
        await client.close()

    with pytest.raises(TargetNotEmpty):
        await rebuild(
            settings.model_copy(update={"mongodb_database": rebuilt_db}), show_progress=False
        )
    again = await rebuild(
        settings.model_copy(update={"mongodb_database": rebuilt_db}),
        replace=True,
        show_progress=False,
    )
    assert again.totals == result.totals
