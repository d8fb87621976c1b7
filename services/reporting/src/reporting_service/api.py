"""HTTP API of the reporting service: aggregates only, never a person.

Who sees what (``access_matrix.py``; every route is an aggregate route):
- public reports (suppressed, for the municipality): analysts, area managers, admins;
- internal reports and the work plan (exact): analysts and admins for the whole
  municipality (scope ``any``), area managers for their own teams only (``own-team``);
- nobody gets anything below the level of a count: no case, no pseudonym.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from reporting_service import reports
from reporting_service.domain.measures import Dimension
from reporting_service.domain.periods import (
    Period,
    PeriodError,
    PeriodKind,
    custom_period,
    parse_period,
)
from reporting_service.handlers.placing import Placing
from reporting_service.reports import Scope
from reporting_service.settings import ReportingSettings
from servicekit.app import provide
from servicekit.authz import Access, Authorized
from servicekit.http.problems import invalid
from servicekit.mongo import Transactions, UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["reports"])

ReportReader = Authorized
Tx = Annotated[Transactions, provide(Transactions)]
Settings = Annotated[ReportingSettings, provide(ReportingSettings)]
Where = Annotated[Placing, provide(Placing)]
Format = Annotated[
    Literal["json", "csv"] | None,
    Query(description="json (default) or csv; an Accept: text/csv header does the same"),
]
PeriodText = Annotated[
    str | None,
    Query(
        description="2026 (year), 2026-Q1 (quarter) or 2026-03 (month), in Europe/Amsterdam days"
    ),
]
FirstDay = Annotated[date | None, Query(description="custom range: first day, inclusive")]
LastDay = Annotated[date | None, Query(description="custom range: last day, inclusive")]


def scope_of(access: Access) -> Scope:
    """Whose figures the matrix grants: the municipality (None) or these teams."""
    return Scope(access.teams())


def period_from(
    period: str | None, first_day: date | None, last_day: date | None, *, custom: bool
) -> Period:
    if period is not None and (first_day or last_day):
        raise invalid("query.period", "give a period or a first and last day, not both")
    if period is not None:
        try:
            return parse_period(period)
        except PeriodError as error:
            raise invalid("query.period", str(error)) from error
    if not custom:
        raise invalid("query.period", "public reports are for a month, a quarter or a year")
    if first_day is None or last_day is None:
        field = "query.first_day" if first_day is None else "query.last_day"
        raise invalid(field, "a custom range needs a first and a last day (or give a period)")
    try:
        return custom_period(first_day, last_day)
    except PeriodError as error:
        raise invalid("query.last_day", str(error)) from error


def wants_csv(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    return "text/csv" in request.headers.get("accept", "")


def csv_response(name: str, header: list[str], rows: list[list[Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


# models (for the API documentation) ---------------------------------------------------------


class PeriodOut(BaseModel):
    kind: PeriodKind
    label: str
    first_day: date
    last_day: date
    starts_at: datetime = Field(description="first instant of the period, UTC")
    ends_before: datetime = Field(description="first instant after the period, UTC")


class InternalRow(BaseModel):
    group: dict[str, str]
    figures: dict[str, int]


class BreakdownRow(BaseModel):
    group: dict[str, str]
    measure: str
    breakdown: str
    code: str
    value: int


class Bucket(BaseModel):
    up_to_days: int
    count: int


class LeadTime(BaseModel):
    group: dict[str, str]
    stage: str
    count: int
    p50_days: float | None
    p90_days: float | None
    max_days: float
    histogram: list[Bucket]


class InternalReport(BaseModel):
    variant: Literal["internal"]
    period: PeriodOut
    group_by: list[str]
    teams: list[str] | None = Field(description="the teams covered; null: all")
    rows: list[InternalRow] = Field(description="per group, the last row is the total")
    breakdowns: list[BreakdownRow]
    lead_times: list[LeadTime]


class PublicCell(BaseModel):
    category: str
    value: int | str = Field(description='a count, "<N" (below the threshold) or "x" (withheld)')


class PublicTable(BaseModel):
    measure: str
    meaning: str
    dimension: str
    cells: list[PublicCell]


class PublicReport(BaseModel):
    variant: Literal["public"]
    period: PeriodOut
    dimension: str
    threshold: int
    legend: dict[str, str]
    tables: list[PublicTable]


class WorkPlanLine(BaseModel):
    district: str | None = None
    programme: str | None = None
    activity: str | None = None
    contacts: int
    minutes: int
    hours: float


class WorkPlan(BaseModel):
    period: PeriodOut
    teams: list[str] | None
    rows: list[WorkPlanLine]
    by_district: list[WorkPlanLine]
    by_programme: list[WorkPlanLine]
    by_activity: list[WorkPlanLine]
    total: WorkPlanLine


class TotalsRow(BaseModel):
    group: str
    signals: int
    cases_opened: int


class Totals(BaseModel):
    first_day: date
    last_day: date
    group_by: str
    rows: list[TotalsRow]


# routes -------------------------------------------------------------------------------------


@router.get(
    "/reports/internal",
    response_model=InternalReport,
    summary="Exact figures per group, with breakdowns and lead times (JSON or CSV)",
)
async def internal(
    request: Request,
    principal: ReportReader,
    transactions: Tx,
    where: Where,
    period: PeriodText = None,
    first_day: FirstDay = None,
    last_day: LastDay = None,
    group_by: Annotated[
        list[Dimension] | None, Query(description="one or more; default district")
    ] = None,
    format: Format = None,
) -> Any:
    chosen = period_from(period, first_day, last_day, custom=True)
    dims = [d.value for d in (group_by or [Dimension.DISTRICT])]
    if len(set(dims)) != len(dims):
        raise invalid("query.group_by", "a dimension may appear once")
    scope = scope_of(principal)

    async def read(uow: UnitOfWork) -> dict[str, Any]:
        return await reports.internal_report(uow, chosen, dims, scope, where.timezone)

    report = await transactions.run(read)
    if not wants_csv(request, format):
        return report
    rows: list[list[Any]] = []
    for row in report["rows"]:
        groups = [row["group"][d] for d in dims]
        rows += [[name, "", *groups, value] for name, value in row["figures"].items()]
    for b in report["breakdowns"]:
        rows.append(
            [
                f"{b['measure']}.{b['breakdown']}",
                b["code"],
                *(b["group"][d] for d in dims),
                b["value"],
            ]
        )
    for lead in report["lead_times"]:
        groups = [lead["group"][d] for d in dims]
        for stat in ("count", "p50_days", "p90_days", "max_days"):
            rows.append([f"lead_time.{lead['stage']}", stat, *groups, lead[stat]])
    return csv_response(f"internal-{chosen.label}", ["measure", "code", *dims, "value"], rows)


@router.get(
    "/reports/public",
    response_model=PublicReport,
    summary="Figures for publication: small numbers suppressed, none recomputable (JSON or CSV)",
)
async def public(
    request: Request,
    principal: ReportReader,
    transactions: Tx,
    settings: Settings,
    where: Where,
    period: PeriodText = None,
    group_by: Annotated[Dimension, Query(description="one dimension")] = Dimension.DISTRICT,
    format: Format = None,
) -> Any:
    chosen = period_from(period, None, None, custom=False)

    async def read(uow: UnitOfWork) -> dict[str, Any]:
        return await reports.public_report(
            uow, chosen, group_by.value, where.areas, settings.public_threshold, where.timezone
        )

    report = await transactions.run(read)
    if not wants_csv(request, format):
        return report
    rows = [
        [t["measure"], t["dimension"], c["category"], c["value"]]
        for t in report["tables"]
        for c in t["cells"]
    ]
    return csv_response(
        f"public-{chosen.label}-{group_by.value}",
        ["measure", "dimension", "category", "value"],
        rows,
    )


@router.get(
    "/reports/work-plan",
    response_model=WorkPlan,
    summary="Hours per district x programme x kind of activity, from contact minutes",
)
async def work_plan(
    request: Request,
    principal: ReportReader,
    transactions: Tx,
    where: Where,
    period: PeriodText = None,
    first_day: FirstDay = None,
    last_day: LastDay = None,
    format: Format = None,
) -> Any:
    chosen = period_from(period, first_day, last_day, custom=True)
    scope = scope_of(principal)

    async def read(uow: UnitOfWork) -> dict[str, Any]:
        return await reports.work_plan(uow, chosen, scope, where.timezone)

    plan = await transactions.run(read)
    if not wants_csv(request, format):
        return plan
    header = ["district", "programme", "activity", "contacts", "minutes", "hours"]
    rows = [[line.get(k) or "" for k in header] for line in plan["rows"]]
    total = plan["total"]
    rows.append(["total", "total", "total", total["contacts"], total["minutes"], total["hours"]])
    return csv_response(f"work-plan-{chosen.label}", header, rows)


@router.get(
    "/reports/totals", response_model=Totals, summary="Counts per district, programme or source"
)
async def totals(
    principal: ReportReader,
    transactions: Tx,
    first_day: Annotated[date, Query(description="first day, inclusive")],
    last_day: Annotated[date, Query(description="last day, inclusive")],
    group_by: Literal["district", "programme", "source", "team"] = "district",
) -> Totals:
    if last_day < first_day:
        raise invalid("query.last_day", "lies before first_day")
    scope = scope_of(principal)

    async def read(uow: UnitOfWork) -> list[dict[str, Any]]:
        return await reports.totals(uow, first_day, last_day, group_by, scope)

    rows = await transactions.run(read)
    return Totals(
        first_day=first_day,
        last_day=last_day,
        group_by=group_by,
        rows=[TotalsRow(**r) for r in rows],
    )
