"""Done when: a year of synthetic events gives public reports in which no cell
below the threshold can be recovered, and work-plan hours that add up to the
recorded minutes.

The reader here is the strongest one: they hold every public report of the
year for a dimension (12 months, 4 quarters, the year) and combine them."""

from __future__ import annotations

import time
import uuid

import aio_pika
import pytest
from attacker import interval_attack, linear_attack
from synthetic import a_year

from reporting_service.app import definition
from reporting_service.domain.measures import MEASURES, Kind, known_categories
from reporting_service.domain.periods import year_tree
from reporting_service.domain.suppression import TOTAL, RowTree, Table, primary_cells
from reporting_service.settings import ReportingSettings
from servicekit.areas import load_area_config
from servicekit.testing import eventually, token_for
from servicekit.testing.events import publish
from servicekit.testing.service import running_service

pytestmark = pytest.mark.integration

ANALYST = token_for("an-1", "analyst")
YEAR = 2026
PERIODS = [
    str(YEAR),
    *(f"{YEAR}-Q{q}" for q in range(1, 5)),
    *(f"{YEAR}-{m:02d}" for m in range(1, 13)),
]
T = 5


async def get(service, path: str, **params) -> dict:
    response = await service.client.get(f"/api/v1/reports/{path}", params=params, headers=ANALYST)
    assert response.status_code == 200, response.text
    return response.json()


def shape(columns: list[str]) -> Table:
    return Table(RowTree(str(YEAR), year_tree(YEAR)), columns, {})


@pytest.fixture(scope="module")
async def year_service(amqp_url, mongodb_url):
    """One service and one projected year for the tests of this module (it takes a while)."""
    settings = ReportingSettings(
        amqp_url=amqp_url,
        mongodb_url=mongodb_url,
        mongodb_database=f"test_year_{uuid.uuid4().hex[:8]}",
        retry_backoff_initial=0.05,
        retry_backoff_max=0.2,
    )
    async with running_service(definition(settings)) as service:
        yield service


@pytest.fixture(scope="module")
async def a_year_projected(year_service, amqp_url):
    reporting = year_service
    year = a_year(YEAR)
    started = time.monotonic()
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        await publish(connection, *year.events)
    finally:
        await connection.close()

    async def progress() -> tuple[int, int]:
        report = await get(reporting, "internal", period=str(YEAR))
        total = report["rows"][-1]["figures"] if report["rows"] else {}
        return total.get("signals", 0), total.get("contact_minutes", 0)

    await eventually(
        progress,
        lambda p: p == (year.signals, year.minutes),
        timeout=240,
        interval=1,
        what="the year",
    )
    print(f"\nprojected {len(year.events)} events in {time.monotonic() - started:.1f}s")
    return year


async def test_a_year_of_public_reports_gives_no_small_number_away(year_service, a_year_projected):
    reporting = year_service
    areas = load_area_config()
    started = time.monotonic()
    for dimension in ("district", "programme"):
        reports = {p: await get(reporting, "public", period=p, group_by=dimension) for p in PERIODS}
        exact = {p: await get(reporting, "internal", period=p, group_by=dimension) for p in PERIODS}
        tables: dict[tuple[str, str], dict[tuple[str, str], int | str]] = {}
        for period, report in reports.items():
            assert report["threshold"] == T
            for table in report["tables"]:
                cells = tables.setdefault((table["measure"], table["dimension"]), {})
                for cell in table["cells"]:
                    cells[period, cell["category"]] = cell["value"]
            _assert_true_to_the_exact_figures(report, exact[period], dimension)

        small = 0
        for (measure, table_dimension), published in tables.items():
            columns = [c for c in dict.fromkeys(k[1] for k in published) if c != TOTAL]
            if MEASURES[measure].kind is Kind.COUNT:
                small += _assert_unrecoverable(shape(columns), published)
                if table_dimension == dimension:
                    assert columns == known_categories(
                        dimension, [d.code for d in areas.districts], [t.code for t in areas.teams]
                    ), "every category is shown, also an empty one"
            else:  # distinct persons and open cases: one table per period
                for period in PERIODS:
                    single = {(period, c): v for (p, c), v in published.items() if p == period}
                    small += _assert_unrecoverable(
                        Table(RowTree.single(period), columns, {}), single
                    )
            _assert_shared_totals_agree(tables, measure, dimension)
        assert small > 100, "the year has plenty of small cells to protect"
    print(f"public reports checked in {time.monotonic() - started:.1f}s")


def _assert_unrecoverable(table: Table, published: dict) -> int:
    ranges = interval_attack(table, published, T)
    fixed = linear_attack(table, published)
    small = [k for k, v in published.items() if v == f"<{T}"]
    for key in small:
        low, high = ranges[key]
        assert low < high, f"{key} can be worked out: {low}"
        assert key not in fixed, key
    return len(small)


def _assert_shared_totals_agree(tables: dict, measure: str, dimension: str) -> None:
    breakdown = MEASURES[measure].breakdown
    if not MEASURES[measure].codes or (measure, breakdown) not in tables:
        return
    by_group, by_code = tables[measure, dimension], tables[measure, breakdown]
    for period in PERIODS:
        assert by_group[period, TOTAL] == by_code[period, TOTAL], (measure, period)


def _assert_true_to_the_exact_figures(public: dict, internal: dict, dimension: str) -> None:
    exact = {row["group"][dimension]: row["figures"] for row in internal["rows"]}
    breakdowns: dict[tuple[str, str], int] = {}
    for row in internal["breakdowns"]:
        key = (row["measure"], row["code"])
        breakdowns[key] = breakdowns.get(key, 0) + row["value"]
    for table in public["tables"]:
        for cell in table["cells"]:
            if table["dimension"] == dimension:
                truth = exact.get(cell["category"], {}).get(table["measure"], 0)
            elif cell["category"] == TOTAL:
                truth = exact[TOTAL][table["measure"]]
            else:
                truth = breakdowns.get((table["measure"], cell["category"]), 0)
            shown = cell["value"]
            if shown == f"<{T}":
                assert truth < T, (table["measure"], cell)
            elif shown == "x":
                assert truth >= T, (table["measure"], cell)
            else:
                assert shown == truth, (table["measure"], cell)


async def test_naive_suppression_of_the_same_year_would_give_cells_away(
    year_service, a_year_projected
):
    """The year is a fair test: hiding only the small cells leaks some of them."""
    reporting = year_service
    monthly = {p: await get(reporting, "internal", period=p, group_by="district") for p in PERIODS}
    columns = known_categories("district", [d.code for d in load_area_config().districts], [])
    recovered = []
    for measure in ("signals", "cases_opened", "contacts", "screenings"):
        values = {
            (p, row["group"]["district"]): row["figures"][measure]
            for p, r in monthly.items()
            for row in r["rows"]
            if "-Q" not in p and len(p) == 7 and row["group"]["district"] != TOTAL
        }
        table = Table(RowTree(str(YEAR), year_tree(YEAR)), columns, values)
        small = primary_cells(table, T)
        naive = {k: (f"<{T}" if k in small else table.value(k)) for k in table.cells}
        ranges = interval_attack(table, naive, T)
        recovered += [(measure, k) for k in small if ranges[k][0] == ranges[k][1]]
    assert recovered, "naive suppression should leak on this year"


async def test_the_work_plan_of_the_year_adds_up_to_the_recorded_minutes(
    year_service, a_year_projected
):
    reporting = year_service
    year = a_year_projected
    plan = await get(reporting, "work-plan", period=str(YEAR))
    assert sum(r["minutes"] for r in plan["rows"]) == year.minutes == plan["total"]["minutes"]
    assert plan["total"]["hours"] == round(year.minutes / 60, 2)
    assert {r["district"]: r["minutes"] for r in plan["by_district"]} == year.minutes_by_district
    assert sum(r["minutes"] for r in plan["by_programme"]) == year.minutes
    assert sum(r["minutes"] for r in plan["by_activity"]) == year.minutes
