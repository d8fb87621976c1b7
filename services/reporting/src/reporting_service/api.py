"""HTTP API of the reporting service: aggregates only, never a person."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from reporting_service.settings import ReportingSettings
from reporting_service.store import Facts
from servicekit.app import provide
from servicekit.auth import Principal, Role
from servicekit.http.problems import invalid
from servicekit.http.security import require_roles
from servicekit.mongo import Transactions, UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["reports"])

ReportReader = Annotated[
    Principal, Depends(require_roles(Role.ANALYST, Role.AREA_MANAGER, Role.ADMIN))
]
Tx = Annotated[Transactions, provide(Transactions)]
Settings = Annotated[ReportingSettings, provide(ReportingSettings)]


class TotalsRow(BaseModel):
    group: str
    signals: int
    cases_opened: int


class Totals(BaseModel):
    first_day: date
    last_day: date
    group_by: str
    rows: list[TotalsRow]


@router.get(
    "/reports/totals", response_model=Totals, summary="Counts per district, programme or source"
)
async def totals(
    principal: ReportReader,
    transactions: Tx,
    settings: Settings,
    first_day: Annotated[date, "first day, inclusive"],
    last_day: Annotated[date, "last day, inclusive"],
    group_by: Literal["district", "programme", "source"] = "district",
) -> Totals:
    if last_day < first_day:
        raise invalid("query.last_day", "lies before first_day")

    async def read(uow: UnitOfWork) -> list[dict[str, int | str]]:
        facts = Facts(uow, ZoneInfo(settings.report_timezone))
        return await facts.totals(first_day, last_day, group_by)

    rows = await transactions.run(read)
    return Totals(
        first_day=first_day,
        last_day=last_day,
        group_by=group_by,
        rows=[
            TotalsRow(
                group=str(r[group_by]),
                signals=int(r["signals"]),
                cases_opened=int(r["cases_opened"]),
            )
            for r in rows
        ],
    )
