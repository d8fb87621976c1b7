"""Who works on a case, as this service learns it from case-assigned (never from the cases
database). Later assignments win; an older event arriving late changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from servicekit.mongo import UnitOfWork

ASSIGNMENTS = "case_assignments"


class AssignmentStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._items = uow.db[ASSIGNMENTS]
        self._session = uow.session

    async def learn(self, case_id: str, team: str, worker: str, assigned_at: datetime) -> None:
        current = await self._items.find_one({"_id": case_id}, session=self._session)
        if current is not None and current["assigned_at"] > assigned_at:
            return
        await self._items.replace_one(
            {"_id": case_id},
            {"_id": case_id, "team": team, "worker": worker, "assigned_at": assigned_at},
            upsert=True,
            session=self._session,
        )

    async def worker_of(self, case_id: str) -> str | None:
        doc = await self._items.find_one({"_id": case_id}, session=self._session)
        return doc["worker"] if doc else None

    async def forget(self, case_ids: list[str]) -> None:
        await self._items.delete_many({"_id": {"$in": case_ids}}, session=self._session)
