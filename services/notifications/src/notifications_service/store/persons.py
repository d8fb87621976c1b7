"""What this service keeps per person, so that an erasure can find and destroy it.

person_keys   the data key of each person (by pseudonym), wrapped by the configured
              key: it seals the person's letter PDFs; deleting it makes every copy
              of them unreadable
case_persons  which person a case is about, learned from case-opened: the inbox
              items and deliveries of later case events name the case only, yet an
              erasure must find them and an inbox read showing one is audit-logged
              under the person's pseudonym (for their access trail)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from notifications_service.crypto import Vault
from servicekit.mongo import IndexSpec, RetryTransaction, UnitOfWork

PERSON_KEYS = "person_keys"
CASE_PERSONS = "case_persons"

INDEXES = [
    IndexSpec(PERSON_KEYS, [("created_at", 1)]),
    IndexSpec(CASE_PERSONS, [("person", 1)]),
]


class PersonKeys:
    def __init__(self, uow: UnitOfWork, vault: Vault) -> None:
        self._keys = uow.db[PERSON_KEYS]
        self._session = uow.session
        self._vault = vault
        self._clock = uow.clock

    async def key_of(self, person: str) -> bytes | None:
        doc = await self._keys.find_one({"_id": person}, session=self._session)
        return self._vault.unwrap_data_key(person, doc["wrapped"]) if doc else None

    async def key_for(self, person: str) -> bytes:
        """The person's data key, made on first use."""
        existing = await self.key_of(person)
        if existing is not None:
            return existing
        data_key, wrapped = self._vault.new_data_key(person)
        document: dict[str, Any] = {
            "_id": person,
            "wrapped": wrapped,
            "created_at": self._clock.now(),
        }
        try:
            await self._keys.insert_one(document, session=self._session)
        except DuplicateKeyError as race:
            raise RetryTransaction from race  # a letter of the same person at the same moment
        return data_key

    async def destroy(self, person: str) -> bool:
        result = await self._keys.delete_one({"_id": person}, session=self._session)
        return result.deleted_count == 1


class CasePersons:
    def __init__(self, uow: UnitOfWork) -> None:
        self._items = uow.db[CASE_PERSONS]
        self._session = uow.session

    async def learn(self, case_id: str, person: str, opened_at: datetime) -> None:
        await self._items.update_one(
            {"_id": case_id},
            {"$setOnInsert": {"person": person, "opened_at": opened_at}},
            upsert=True,
            session=self._session,
        )

    async def persons_of(self, case_ids: set[str]) -> dict[str, str]:
        if not case_ids:
            return {}
        cursor = self._items.find({"_id": {"$in": sorted(case_ids)}}, session=self._session)
        return {d["_id"]: d["person"] for d in await cursor.to_list()}

    async def cases_of(self, person: str) -> list[str]:
        cursor = self._items.find({"person": person}, {"_id": 1}, session=self._session)
        return sorted(d["_id"] for d in await cursor.to_list())

    async def forget(self, person: str) -> None:
        await self._items.delete_many({"person": person}, session=self._session)
