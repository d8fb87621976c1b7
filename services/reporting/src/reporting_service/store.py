"""The projection of the reporting service.

daily_figures   counters per day (in the report time zone) x district x
                programme x source; only counts, never a person.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from servicekit.mongo import IndexSpec, UnitOfWork

DAILY_FIGURES = "daily_figures"

INDEXES = [IndexSpec(DAILY_FIGURES, [("day", 1), ("district", 1)])]

DIMENSIONS = ("district", "programme", "source")
MEASURES = ("signals", "cases_opened")

UNASSIGNED = "unassigned"


class DailyFigures:
    def __init__(self, uow: UnitOfWork, timezone: ZoneInfo) -> None:
        self._figures = uow.db[DAILY_FIGURES]
        self._session = uow.session
        self._timezone = timezone

    async def add(
        self, moment: datetime, *, district: str, programme: str, source: str, measure: str
    ) -> None:
        day = moment.astimezone(self._timezone).date().isoformat()
        key = {"day": day, "district": district, "programme": programme, "source": source}
        await self._figures.update_one(
            {"_id": "|".join(key.values())},
            {"$setOnInsert": key, "$inc": {measure: 1}},
            upsert=True,
            session=self._session,
        )

    async def totals(self, first: date, last: date, group_by: str) -> list[dict[str, Any]]:
        pipeline: list[dict[str, Any]] = [
            {"$match": {"day": {"$gte": first.isoformat(), "$lte": last.isoformat()}}},
            {
                "$group": {
                    "_id": f"${group_by}",
                    **{m: {"$sum": {"$ifNull": [f"${m}", 0]}} for m in MEASURES},
                }
            },
            {"$sort": {"_id": 1}},
        ]
        cursor = await self._figures.aggregate(pipeline, session=self._session)
        return [
            {group_by: row["_id"], **{m: row[m] for m in MEASURES}}
            for row in await cursor.to_list()
        ]
