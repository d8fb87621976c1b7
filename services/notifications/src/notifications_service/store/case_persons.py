"""Which person (pseudonym) a case is about, learned from case-opened.

Notifications name a case, never a person; an inbox read that shows an item about
a case is still a look at that person's case, so it is audit-logged under the
person's pseudonym (for their access trail). Erased with the person.
"""

from __future__ import annotations

from servicekit.mongo import IndexSpec, UnitOfWork

CASE_PERSONS = "case_persons"

# An index so the collection exists before concurrent transactions write to it.
INDEXES = [IndexSpec(CASE_PERSONS, [("person", 1)])]


class CasePersonStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._items = uow.db[CASE_PERSONS]
        self._session = uow.session

    async def learn(self, case_id: str, person: str) -> None:
        await self._items.update_one(
            {"_id": case_id}, {"$set": {"person": person}}, upsert=True, session=self._session
        )

    async def persons_of(self, case_ids: set[str]) -> dict[str, str]:
        if not case_ids:
            return {}
        cursor = self._items.find({"_id": {"$in": sorted(case_ids)}}, session=self._session)
        return {d["_id"]: d["person"] for d in await cursor.to_list()}

    async def forget(self, person: str) -> None:
        await self._items.delete_many({"person": person}, session=self._session)
