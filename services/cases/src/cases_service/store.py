"""MongoDB collection of the cases service.

cases   one document per case; at most one open case per person and programme
        (a partial unique index), so two signals arriving at once cannot open two.
"""

from __future__ import annotations

import uuid
from typing import Any

from pymongo.errors import DuplicateKeyError

from buurtsignaal_contracts.codes import Programme
from cases_service.domain.case import Case
from servicekit.mongo import IndexSpec, RetryTransaction, UnitOfWork

CASES = "cases"

INDEXES = [
    IndexSpec(
        CASES,
        [("person", 1), ("programme", 1)],
        unique=True,
        name="one_open_case_per_person_and_programme",
        partial_filter={"is_open": True},
    ),
    IndexSpec(CASES, [("team", 1), ("opened_at", -1), ("_id", -1)]),
    IndexSpec(CASES, [("signals.signal_id", 1)]),
]


class CaseStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._cases = uow.db[CASES]
        self._session = uow.session

    async def get(self, case_id: uuid.UUID) -> Case | None:
        doc = await self._cases.find_one({"_id": str(case_id)}, session=self._session)
        return Case.from_document(doc) if doc else None

    async def find_open(self, person: str, programme: Programme) -> Case | None:
        doc = await self._cases.find_one(
            {"person": person, "programme": programme.value, "is_open": True}, session=self._session
        )
        return Case.from_document(doc) if doc else None

    async def add(self, case: Case) -> None:
        try:
            await self._cases.insert_one(case.to_document(), session=self._session)
        except DuplicateKeyError as race:
            # Another signal opened this person's case at the same moment:
            # run again and join that case instead.
            raise RetryTransaction from race

    async def save(self, case: Case) -> None:
        """Write a changed case; ``version`` guards against lost updates."""
        expected = case.version
        case.version += 1
        result = await self._cases.replace_one(
            {"_id": str(case.id), "version": expected}, case.to_document(), session=self._session
        )
        if result.matched_count != 1:
            case.version = expected
            raise StaleCase(case.id)

    async def page(self, query: dict[str, Any], *, limit: int, skip: int) -> list[Case]:
        cursor = self._cases.find(query, session=self._session).sort(
            [("opened_at", -1), ("_id", -1)]
        )
        return [Case.from_document(d) for d in await cursor.skip(skip).limit(limit).to_list()]


class StaleCase(Exception):
    """The case changed since it was read (optimistic concurrency)."""

    def __init__(self, case_id: uuid.UUID) -> None:
        super().__init__(f"case {case_id} was changed by someone else")
        self.case_id = case_id
