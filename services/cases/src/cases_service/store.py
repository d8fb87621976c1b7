"""MongoDB collections of the cases service.

cases           one document per case; at most one open case per person and
                programme (a partial unique index), so two signals arriving at
                once cannot open two.
contacts        contact attempts, with team, programme and district for the hours.
screenings      completed screenings with their answers, instrument and version.
person_matches  what signal-matched told about a person, so a case opened
                after the match (events may arrive in any order) shows it too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from buurtsignaal_contracts.codes import Programme, ScreeningOutcome
from cases_service.documents import (
    case_from_document,
    case_to_document,
    contact_from_document,
    contact_to_document,
)
from cases_service.domain.case import Case, Contact, InvolvedOrganisation
from servicekit.mongo import IndexSpec, RetryTransaction, UnitOfWork

CASES = "cases"
CONTACTS = "contacts"
SCREENINGS = "screenings"
PERSON_MATCHES = "person_matches"

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
    IndexSpec(CASES, [("next_alert_on", 1)]),
    IndexSpec(CASES, [("person", 1), ("opened_at", -1)]),
    IndexSpec(CONTACTS, [("case_id", 1), ("contact_date", 1)]),
    IndexSpec(SCREENINGS, [("case_id", 1), ("completed_at", 1)]),
]

# Newest first; the id breaks ties so pages never skip or repeat a case.
CASE_ORDER = [("opened_at", -1), ("_id", -1)]


class CaseStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._cases = uow.db[CASES]
        self._session = uow.session

    async def get(self, case_id: uuid.UUID) -> Case | None:
        doc = await self._cases.find_one({"_id": str(case_id)}, session=self._session)
        return case_from_document(doc) if doc else None

    async def find_open(self, person: str, programme: Programme) -> Case | None:
        doc = await self._cases.find_one(
            {"person": person, "programme": programme.value, "is_open": True},
            session=self._session,
        )
        return case_from_document(doc) if doc else None

    async def last_closed(self, person: str, programme: Programme) -> Case | None:
        cursor = (
            self._cases.find(
                {"person": person, "programme": programme.value, "is_open": False},
                session=self._session,
            )
            .sort([("closed_at", -1), ("_id", -1)])
            .limit(1)
        )
        docs = await cursor.to_list()
        return case_from_document(docs[0]) if docs else None

    async def with_signal(self, signal_id: uuid.UUID) -> list[Case]:
        cursor = self._cases.find({"signals.signal_id": str(signal_id)}, session=self._session)
        return [case_from_document(d) for d in await cursor.sort([("_id", 1)]).to_list()]

    async def of_person(self, person: str) -> list[Case]:
        cursor = self._cases.find({"person": person}, session=self._session)
        return [case_from_document(d) for d in await cursor.sort([("_id", 1)]).to_list()]

    async def add(self, case: Case) -> None:
        try:
            await self._cases.insert_one(case_to_document(case), session=self._session)
        except DuplicateKeyError as race:
            # Another signal opened this person's case at the same moment:
            # run again and join that case instead.
            raise RetryTransaction from race

    async def save(self, case: Case) -> None:
        """Write a changed case; ``version`` guards against lost updates.

        Raises :class:`StaleCase` when someone else saved it since it was read,
        and :class:`OpenCaseExists` when it would be a second open case of the
        person in its programme.
        """
        expected = case.version
        case.version += 1
        try:
            result = await self._cases.replace_one(
                {"_id": str(case.id), "version": expected},
                case_to_document(case),
                session=self._session,
            )
        except DuplicateKeyError as clash:
            case.version = expected
            raise OpenCaseExists(case.id) from clash
        if result.matched_count != 1:
            case.version = expected
            raise StaleCase(case.id)

    async def page(self, query: dict[str, Any], *, limit: int, skip: int) -> list[Case]:
        cursor = self._cases.find(query, session=self._session).sort(CASE_ORDER)
        return [case_from_document(d) for d in await cursor.skip(skip).limit(limit).to_list()]

    async def count(self, query: dict[str, Any]) -> int:
        return await self._cases.count_documents(query, session=self._session)

    async def ids_with_breaches_due(self, today: date, limit: int) -> list[uuid.UUID]:
        """Open cases with a breach to tell: the day after its alert day has come."""
        cursor = (
            self._cases.find(
                {"is_open": True, "next_alert_on": {"$lt": today.isoformat()}},
                {"_id": 1},
                session=self._session,
            )
            .sort([("next_alert_on", 1), ("_id", 1)])
            .limit(limit)
        )
        return [uuid.UUID(d["_id"]) for d in await cursor.to_list()]

    async def delete_of_person(self, person: str) -> int:
        result = await self._cases.delete_many({"person": person}, session=self._session)
        return result.deleted_count


class StaleCase(Exception):
    """The case changed since it was read (optimistic concurrency)."""

    def __init__(self, case_id: uuid.UUID) -> None:
        super().__init__(f"case {case_id} was changed by someone else")
        self.case_id = case_id


class OpenCaseExists(Exception):
    """The person already has an open case in this programme."""

    def __init__(self, case_id: uuid.UUID) -> None:
        super().__init__(f"case {case_id} would be a second open case in its programme")
        self.case_id = case_id


class ContactStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._contacts = uow.db[CONTACTS]
        self._session = uow.session

    async def add(self, contact: Contact, case: Case) -> None:
        await self._contacts.insert_one(contact_to_document(contact, case), session=self._session)

    async def of_case(self, case_id: uuid.UUID) -> list[Contact]:
        cursor = self._contacts.find({"case_id": str(case_id)}, session=self._session).sort(
            [("contact_date", 1), ("recorded_at", 1), ("_id", 1)]
        )
        return [contact_from_document(d) for d in await cursor.to_list()]

    async def delete_of_person(self, person: str) -> None:
        await self._contacts.delete_many({"person": person}, session=self._session)


@dataclass(frozen=True)
class ScreeningRecord:
    id: uuid.UUID
    case_id: uuid.UUID
    instrument: str
    instrument_version: str
    answers: dict[str, str]
    score: int
    outcome: ScreeningOutcome
    completed_by: str
    completed_at: datetime


class ScreeningStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._screenings = uow.db[SCREENINGS]
        self._session = uow.session

    async def add(self, record: ScreeningRecord, person: str) -> None:
        await self._screenings.insert_one(
            {
                "_id": str(record.id),
                "case_id": str(record.case_id),
                "person": person,
                "instrument": record.instrument,
                "instrument_version": record.instrument_version,
                "answers": record.answers,
                "score": record.score,
                "outcome": record.outcome.value,
                "completed_by": record.completed_by,
                "completed_at": record.completed_at,
            },
            session=self._session,
        )

    async def of_case(self, case_id: uuid.UUID) -> list[ScreeningRecord]:
        cursor = self._screenings.find({"case_id": str(case_id)}, session=self._session).sort(
            [("completed_at", 1), ("_id", 1)]
        )
        return [
            ScreeningRecord(
                id=uuid.UUID(d["_id"]),
                case_id=uuid.UUID(d["case_id"]),
                instrument=d["instrument"],
                instrument_version=d["instrument_version"],
                answers=d["answers"],
                score=d["score"],
                outcome=ScreeningOutcome(d["outcome"]),
                completed_by=d["completed_by"],
                completed_at=d["completed_at"],
            )
            for d in await cursor.to_list()
        ]

    async def delete_of_person(self, person: str) -> None:
        await self._screenings.delete_many({"person": person}, session=self._session)


@dataclass(frozen=True)
class PersonMatch:
    match_ids: list[uuid.UUID]
    involved: list[InvolvedOrganisation]


class MatchStore:
    """What matches told about a person, for cases opened after the match."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._matches = uow.db[PERSON_MATCHES]
        self._session = uow.session

    async def remember(
        self, person: str, match_id: uuid.UUID, involved: list[InvolvedOrganisation]
    ) -> None:
        await self._matches.update_one(
            {"_id": person},
            {
                "$addToSet": {
                    "match_ids": str(match_id),
                    "involved": {
                        "$each": [
                            {
                                "organisation": i.organisation,
                                "professional": i.professional,
                                "signal_id": str(i.signal_id),
                            }
                            for i in involved
                        ]
                    },
                }
            },
            upsert=True,
            session=self._session,
        )

    async def of_person(self, person: str) -> PersonMatch | None:
        doc = await self._matches.find_one({"_id": person}, session=self._session)
        if doc is None:
            return None
        return PersonMatch(
            match_ids=[uuid.UUID(m) for m in doc.get("match_ids", [])],
            involved=[
                InvolvedOrganisation(
                    organisation=i["organisation"],
                    professional=i["professional"],
                    signal_id=uuid.UUID(i["signal_id"]),
                )
                for i in doc.get("involved", [])
            ],
        )

    async def forget_signal(self, person: str, signal_id: uuid.UUID) -> None:
        await self._matches.update_one(
            {"_id": person},
            {"$pull": {"involved": {"signal_id": str(signal_id)}}},
            session=self._session,
        )

    async def forget(self, person: str) -> None:
        await self._matches.delete_one({"_id": person}, session=self._session)
