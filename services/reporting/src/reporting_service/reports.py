"""Reports built from the facts: internal (exact), public (suppressed), work plan.

Service layer: functions take a unit of work (a read transaction, so every
figure of one report comes from the same moment) and return plain data that
the API renders as JSON or CSV.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from reporting_service.domain.measures import (
    LEAD_TIME,
    LEAD_TIME_BUCKETS,
    MEASURES,
    OPEN_DELTA,
    Kind,
    Measure,
    Stage,
    counted_measures,
    known_categories,
    percentile,
)
from reporting_service.domain.periods import Period, year_tree
from reporting_service.domain.suppression import TOTAL, Mark, RowTree, Table, display, protect
from reporting_service.store import FactQueries
from servicekit.areas import AreaConfig
from servicekit.mongo import UnitOfWork

Group = tuple[str, ...]


@dataclass(frozen=True)
class Scope:
    """Whose figures: ``None`` for the whole municipality, else these teams only."""

    teams: frozenset[str] | None = None


def _group(row: dict[str, Any], by: Sequence[str]) -> Group:
    return tuple(str(row[d]) for d in by)


def _target(target: Group | None, row: dict[str, Any], levels: list[str]) -> Group:
    return target if target is not None else _group(row, levels)


def _period(period: Period, timezone: Any) -> dict[str, Any]:
    starts_at, ends_before = period.utc_bounds(timezone)
    return {
        "kind": period.kind.value,
        "label": period.label,
        "first_day": period.first_day,
        "last_day": period.last_day,
        "starts_at": starts_at,
        "ends_before": ends_before,
    }


# internal ---------------------------------------------------------------------------------


async def internal_report(
    uow: UnitOfWork, period: Period, group_by: Sequence[str], scope: Scope, timezone: Any
) -> dict[str, Any]:
    """Exact figures per group: every measure, its breakdowns and the lead times."""
    facts = FactQueries(uow)
    first, last, teams = period.first_day, period.last_day, scope.teams
    by = list(group_by)
    figures: dict[Group, dict[str, int]] = defaultdict(dict)

    async def collect(target: Group | None, levels: list[str]) -> None:
        rows = await facts.sums(counted_measures(), first, last, levels, teams=teams)
        for row in rows:
            figures[_target(target, row, levels)][row["measure"]] = row["value"]
        for measure in MEASURES.values():
            if measure.kind is Kind.DISTINCT:
                assert measure.source_measure
                for row in await facts.distinct_persons(
                    measure.source_measure, first, last, levels, teams=teams
                ):
                    figures[_target(target, row, levels)][measure.name] = row["value"]
        for row in await facts.sums([OPEN_DELTA], None, last, levels, teams=teams):
            figures[_target(target, row, levels)]["open_cases"] = max(0, row["value"])

    total_key = tuple(TOTAL for _ in by)
    await collect(None, by)
    await collect(total_key, [])
    names = list(MEASURES)
    rows = [
        {
            "group": dict(zip(by, group, strict=True)),
            "figures": {n: values.get(n, 0) for n in names},
        }
        for group, values in sorted(figures.items(), key=lambda kv: (kv[0] == total_key, kv[0]))
    ]
    breakdown_measures = [m.name for m in MEASURES.values() if m.breakdown]
    breakdowns = [
        {
            "group": dict(zip(by, _group(row, by), strict=True)),
            "measure": row["measure"],
            "breakdown": MEASURES[row["measure"]].breakdown,
            "code": row["code"],
            "value": row["value"],
        }
        for row in await facts.sums(breakdown_measures, first, last, [*by, "code"], teams=teams)
    ]
    lead_times = await _lead_times(facts, period, by, scope)
    return {
        "variant": "internal",
        "period": _period(period, timezone),
        "group_by": by,
        "teams": sorted(scope.teams) if scope.teams is not None else None,
        "rows": rows,
        "breakdowns": breakdowns,
        "lead_times": lead_times,
    }


async def _lead_times(
    facts: FactQueries, period: Period, by: list[str], scope: Scope
) -> list[dict[str, Any]]:
    stages = {measure: stage for stage, measure in LEAD_TIME.items()}
    found: dict[tuple[Group, Stage], list[int]] = defaultdict(list)
    for levels in (by, []):
        rows = await facts.counts_by_value(
            list(stages), period.first_day, period.last_day, levels, teams=scope.teams
        )
        for row in rows:
            group = _group(row, levels) if levels else tuple(TOTAL for _ in by)
            found[group, stages[row["measure"]]].extend([int(row["value"])] * row["count"])
    result = []
    for (group, stage), values in sorted(found.items()):
        values.sort()
        result.append(
            {
                "group": dict(zip(by, group, strict=True)),
                "stage": stage.value,
                "count": len(values),
                "p50_days": percentile(values, 0.5),
                "p90_days": percentile(values, 0.9),
                "max_days": float(values[-1]),
                "histogram": [
                    {"up_to_days": bound, "count": sum(1 for v in values if v <= bound)}
                    for bound in LEAD_TIME_BUCKETS
                ],
            }
        )
    return result


# public -----------------------------------------------------------------------------------

PUBLIC_MEASURES = [m for m in MEASURES.values() if m.public]
LEGEND = {
    "<N": "fewer than N (the threshold), including none",
    "x": "withheld so that no '<N' can be worked out from the totals or other cells",
}


def _categories(base: list[str], seen: Iterable[str]) -> list[str]:
    extra = sorted(set(seen) - set(base))
    return [*base, *extra]


async def public_report(
    uow: UnitOfWork,
    period: Period,
    dimension: str,
    areas: AreaConfig,
    threshold: int,
    timezone: Any,
) -> dict[str, Any]:
    """Counts per category of one dimension, with small numbers suppressed.

    Additive counts are protected over the whole year at once (months within
    quarters within the year, by category, with every total), and a month,
    quarter or year report shows its slice of that: so no month can be worked
    out from its quarter and another report either. Distinct persons and open
    cases are not additive over time and are protected per period.
    """
    facts = FactQueries(uow)
    year_first, year_last = date(period.year, 1, 1), date(period.year, 12, 31)
    base = known_categories(
        dimension, [d.code for d in areas.districts], [t.code for t in areas.teams]
    )
    additive = [m for m in PUBLIC_MEASURES if m.kind is Kind.COUNT]
    by_month = await facts.sums(
        [m.name for m in additive], year_first, year_last, ["month", dimension]
    )
    coded = [m for m in additive if m.codes]
    by_code = await facts.sums([m.name for m in coded], year_first, year_last, ["month", "code"])
    categories = _categories(base, (str(r[dimension]) for r in by_month))
    tree = RowTree(str(period.year), year_tree(period.year))

    tables: list[dict[str, Any]] = []
    for measure in PUBLIC_MEASURES:
        if measure.kind is Kind.COUNT:
            tables.extend(
                _year_tables(
                    measure, dimension, categories, tree, by_month, by_code, period, threshold
                )
            )
        elif measure.kind is Kind.DISTINCT:
            tables.append(
                await _distinct_table(facts, measure, dimension, categories, period, threshold)
            )
        else:
            tables.append(
                await _stock_table(facts, measure, dimension, categories, period, threshold)
            )
    return {
        "variant": "public",
        "period": _period(period, timezone),
        "dimension": dimension,
        "threshold": threshold,
        "legend": {
            k.replace("N", str(threshold)): v.replace("N", str(threshold))
            for k, v in LEGEND.items()
        },
        "tables": tables,
    }


def _year_tables(
    measure: Measure,
    dimension: str,
    categories: list[str],
    tree: RowTree,
    by_month: list[dict[str, Any]],
    by_code: list[dict[str, Any]],
    period: Period,
    threshold: int,
) -> list[dict[str, Any]]:
    cube = Table(
        tree,
        categories,
        {
            (r["month"], str(r[dimension])): r["value"]
            for r in by_month
            if r["measure"] == measure.name
        },
    )
    if not measure.codes:
        marks = protect(cube, threshold)
        return [_slice(measure.name, measure.meaning, dimension, cube, marks, period, threshold)]
    rows = [r for r in by_code if r["measure"] == measure.name]
    codes = _categories(list(measure.codes), (str(r["code"]) for r in rows))
    code_cube = Table(tree, codes, {(r["month"], str(r["code"])): r["value"] for r in rows})
    # Both tables end in the same totals per month, quarter and year: a total is
    # withheld in both or in neither, so neither table can be used to open the other.
    shared: set[tuple[str, str]] = set()
    while True:
        marks = protect(cube, threshold, also_withhold=shared)
        code_marks = protect(code_cube, threshold, also_withhold=shared)
        withheld = {k for k in [*marks, *code_marks] if k[1] == TOTAL}
        if withheld == shared:
            break
        shared = withheld
    return [
        _slice(measure.name, measure.meaning, dimension, cube, marks, period, threshold),
        _slice(
            measure.name,
            measure.meaning,
            measure.breakdown or "code",
            code_cube,
            code_marks,
            period,
            threshold,
        ),
    ]


def _slice(
    name: str,
    meaning: str,
    dimension: str,
    table: Table,
    marks: dict[tuple[str, str], Mark],
    period: Period,
    threshold: int,
) -> dict[str, Any]:
    row = period.label
    return {
        "measure": name,
        "meaning": meaning,
        "dimension": dimension,
        "cells": [
            {"category": c, "value": display(table.value((row, c)), marks.get((row, c)), threshold)}
            for c in [*table.columns, TOTAL]
        ],
    }


async def _distinct_table(
    facts: FactQueries,
    measure: Measure,
    dimension: str,
    categories: list[str],
    period: Period,
    threshold: int,
) -> dict[str, Any]:
    assert measure.source_measure
    first, last = period.first_day, period.last_day
    rows = await facts.distinct_persons(measure.source_measure, first, last, [dimension])
    overall = await facts.distinct_persons(measure.source_measure, first, last, [])
    real_total = overall[0]["value"] if overall else 0
    # One person may be counted in two categories, so the categories can add up
    # to more than the total. Protection treats the table as if they added up:
    # a reader who knows less (only "at least") can work out no more.
    categories = _categories(categories, (str(r[dimension]) for r in rows))
    table = Table(
        RowTree.single(period.label),
        categories,
        {(period.label, str(r[dimension])): r["value"] for r in rows},
    )
    marks = protect(table, threshold)
    result = _slice(measure.name, measure.meaning, dimension, table, marks, period, threshold)
    total_mark = marks.get((period.label, TOTAL))
    if real_total < threshold:
        total_mark = Mark.PRIMARY
    result["cells"][-1]["value"] = display(real_total, total_mark, threshold)
    return result


async def _stock_table(
    facts: FactQueries,
    measure: Measure,
    dimension: str,
    categories: list[str],
    period: Period,
    threshold: int,
) -> dict[str, Any]:
    rows = await facts.sums([OPEN_DELTA], None, period.last_day, [dimension])
    categories = _categories(categories, (str(r[dimension]) for r in rows))
    table = Table(
        RowTree.single(period.label),
        categories,
        {(period.label, str(r[dimension])): max(0, r["value"]) for r in rows},
    )
    marks = protect(table, threshold)
    return _slice(measure.name, measure.meaning, dimension, table, marks, period, threshold)


# work plan --------------------------------------------------------------------------------


async def work_plan(uow: UnitOfWork, period: Period, scope: Scope, timezone: Any) -> dict[str, Any]:
    """Hours per district x programme x kind of activity, from contact minutes."""
    facts = FactQueries(uow)
    rows = await facts.sums(
        ["contact_minutes", "contacts"],
        period.first_day,
        period.last_day,
        ["district", "programme", "code"],
        teams=scope.teams,
    )
    cells: dict[Group, dict[str, int]] = defaultdict(lambda: {"minutes": 0, "contacts": 0})
    for row in rows:
        field = "minutes" if row["measure"] == "contact_minutes" else "contacts"
        cells[row["district"], row["programme"], row["code"]][field] += row["value"]

    def line(minutes: int, contacts: int, **where: str) -> dict[str, Any]:
        return {**where, "contacts": contacts, "minutes": minutes, "hours": round(minutes / 60, 2)}

    def subtotal(index: int, name: str) -> list[dict[str, Any]]:
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for key, value in cells.items():
            sums[key[index]][0] += value["minutes"]
            sums[key[index]][1] += value["contacts"]
        return [line(m, c, **{name: k}) for k, (m, c) in sorted(sums.items())]

    minutes = sum(v["minutes"] for v in cells.values())
    return {
        "period": _period(period, timezone),
        "teams": sorted(scope.teams) if scope.teams is not None else None,
        "rows": [
            line(v["minutes"], v["contacts"], district=d, programme=p, activity=k)
            for (d, p, k), v in sorted(cells.items())
        ],
        "by_district": subtotal(0, "district"),
        "by_programme": subtotal(1, "programme"),
        "by_activity": subtotal(2, "activity"),
        "total": line(minutes, sum(v["contacts"] for v in cells.values())),
    }


async def totals(
    uow: UnitOfWork, first: date, last: date, group_by: str, scope: Scope
) -> list[dict[str, Any]]:
    """Signals and cases opened per group (the first report; kept for its users)."""
    rows = await FactQueries(uow).sums(
        ["signals", "cases_opened"], first, last, [group_by], teams=scope.teams
    )
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = found.setdefault(
            row[group_by], {"group": row[group_by], "signals": 0, "cases_opened": 0}
        )
        entry[row["measure"]] = row["value"]
    return [found[k] for k in sorted(found)]
