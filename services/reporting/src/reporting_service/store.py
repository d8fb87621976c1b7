"""The projection of the reporting service.

facts   one document per counted event: what it counts (measure), its day in the
        report time zone, district, programme and source. Insert-only: concurrent
        events never contend for a shared counter, a redelivered event cannot count
        twice (its id is the key), and reports are sums over facts.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from servicekit.mongo import IndexSpec, UnitOfWork

FACTS = "facts"

INDEXES = [IndexSpec(FACTS, [("day", 1), ("measure", 1)])]

DIMENSIONS = ("district", "programme", "source")
MEASURES = ("signals", "cases_opened")

UNASSIGNED = "unassigned"


class Facts:
    def __init__(self, uow: UnitOfWork, timezone: ZoneInfo) -> None:
        self._facts = uow.db[FACTS]
        self._session = uow.session
        self._timezone = timezone

    async def add(
        self,
        event_id: str,
        moment: datetime,
        *,
        measure: str,
        district: str,
        programme: str,
        source: str,
    ) -> None:
        fact = {
            "_id": f"{measure}:{event_id}",
            "measure": measure,
            "day": moment.astimezone(self._timezone).date().isoformat(),
            "district": district,
            "programme": programme,
            "source": source,
        }
        await self._facts.insert_one(fact, session=self._session)

    async def totals(self, first: date, last: date, group_by: str) -> list[dict[str, Any]]:
        pipeline: list[dict[str, Any]] = [
            {"$match": {"day": {"$gte": first.isoformat(), "$lte": last.isoformat()}}},
            {
                "$group": {
                    "_id": f"${group_by}",
                    **{m: {"$sum": {"$cond": [{"$eq": ["$measure", m]}, 1, 0]}} for m in MEASURES},
                }
            },
            {"$sort": {"_id": 1}},
        ]
        cursor = await self._facts.aggregate(pipeline, session=self._session)
        return [
            {group_by: row["_id"], **{m: row[m] for m in MEASURES}}
            for row in await cursor.to_list()
        ]
