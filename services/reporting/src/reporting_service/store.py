"""The projection of the reporting service, in three collections.

facts    one document per counted thing: a measure, its local day and month,
         district, programme, source and team, a code that breaks it down, a
         value, and where distinct persons are counted the person's pseudonym.
         Insert-only in the normal flow: concurrent events never contend for a
         shared counter, a redelivered event cannot count twice (its id is in the
         key, and the inbox stops it first), and every report is a sum over facts.
         The few facts that count "the first of" something (a match, the first
         contact of a case) have a natural key and keep the earliest candidate,
         so the result does not depend on the order events arrive in.
signals  per signal: its person and dimensions, for events that name only the
         signal (a match, a withdrawal, an expiry).
cases    per case: its person, the source of its first signal and when that
         signal came, for the case events that do not carry them.

persons  per person, keyed by a hash of the pseudonym (never the pseudonym):
         the surrogate once the person is erased. Every write that names a
         person passes through this document, so an erasure and a fact about
         the same person written at the same moment conflict and one of them
         runs again after the other: a late fact cannot bring a pseudonym back.

Erasure (AVG art. 17): the pseudonym is the only person reference. ``forget``
replaces it everywhere by a surrogate that is the same for all of that person's
facts, so distinct counts and every other figure stay exactly as they were while
nothing points to the person any more; later events about the person are
written with the surrogate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from reporting_service.domain.measures import OPEN_DELTA, UNASSIGNED
from reporting_service.domain.periods import month_of
from servicekit.mongo import IndexSpec, UnitOfWork

FACTS = "facts"
SIGNALS = "signals"
CASES = "cases"
PERSONS = "persons"
PROJECTION = (FACTS, SIGNALS, CASES, PERSONS)

INDEXES = [
    IndexSpec(FACTS, [("measure", 1), ("day", 1)]),
    IndexSpec(FACTS, [("measure", 1), ("month", 1)]),
    IndexSpec(FACTS, [("person", 1)], name="facts_person"),
    IndexSpec(SIGNALS, [("person", 1)]),
    IndexSpec(CASES, [("person", 1)]),
]


class NotYetProjected(Exception):
    """An event refers to a case or signal whose own event has not been handled
    yet (it can arrive later after a retry); the event is tried again."""


@dataclass(frozen=True)
class Dimensions:
    district: str
    programme: str
    source: str
    team: str

    def as_dict(self) -> dict[str, str]:
        return {
            "district": self.district,
            "programme": self.programme,
            "source": self.source,
            "team": self.team,
        }


NO_DIMENSIONS = Dimensions(UNASSIGNED, UNASSIGNED, UNASSIGNED, UNASSIGNED)


@dataclass(frozen=True)
class CaseRecord:
    case_id: str
    person: str
    source: str
    first_signal_at: datetime


@dataclass(frozen=True)
class SignalRecord:
    signal_id: str
    person: str
    dimensions: Dimensions


class Projection:
    """Writes of the projection inside one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._facts: AsyncCollection[dict[str, Any]] = uow.db[FACTS]
        self._signals: AsyncCollection[dict[str, Any]] = uow.db[SIGNALS]
        self._cases: AsyncCollection[dict[str, Any]] = uow.db[CASES]
        self._persons: AsyncCollection[dict[str, Any]] = uow.db[PERSONS]
        self._session = uow.session

    async def _person(self, person: str | None) -> str | None:
        """The reference to write for a person: the pseudonym, or its surrogate once erased."""
        if person is None:
            return None
        found = await self._persons.find_one_and_update(
            {"_id": _person_key(person)},
            {"$inc": {"facts": 1}},
            upsert=True,
            return_document=True,
            session=self._session,
        )
        return str(found.get("surrogate", person)) if found else person

    # facts

    async def count(
        self,
        key: str,
        measure: str,
        day: date,
        dimensions: Dimensions,
        *,
        code: str | None = None,
        value: int = 1,
        person: str | None = None,
    ) -> None:
        """A fact of its own; ``key`` (usually the event id) makes it unique."""
        person = await self._person(person)
        await self._facts.insert_one(
            _fact(f"{measure}:{key}", measure, day, dimensions, code, value, person),
            session=self._session,
        )

    async def count_first(
        self,
        key: str,
        measure: str,
        day: date,
        dimensions: Dimensions,
        *,
        order: tuple[str, ...],
        code: str | None = None,
        value: int = 1,
        person: str | None = None,
    ) -> None:
        """One fact per ``key``: the candidate with the least ``order`` (strings:
        ISO dates and times, then the event id) wins, whichever comes first."""
        person = await self._person(person)
        fact = _fact(f"{measure}:{key}", measure, day, dimensions, code, value, person)
        fact["order"] = list(order)
        existing = await self._facts.find_one({"_id": fact["_id"]}, session=self._session)
        if existing is None:
            await self._facts.insert_one(fact, session=self._session)
        elif tuple(existing["order"]) > order:
            await self._facts.replace_one({"_id": fact["_id"]}, fact, session=self._session)

    async def open_delta(self, key: str, day: date, dimensions: Dimensions, delta: int) -> None:
        await self.count(key, OPEN_DELTA, day, dimensions, value=delta)

    # what events of others refer to

    async def remember_signal(self, signal: SignalRecord) -> None:
        await self._signals.update_one(
            {"_id": signal.signal_id},
            {
                "$setOnInsert": {
                    "person": await self._person(signal.person),
                    **signal.dimensions.as_dict(),
                }
            },
            upsert=True,
            session=self._session,
        )

    async def signal(self, signal_id: str) -> SignalRecord:
        found = await self._signals.find_one({"_id": signal_id}, session=self._session)
        if found is None:
            raise NotYetProjected(f"signal {signal_id}")
        return SignalRecord(
            signal_id,
            found["person"],
            Dimensions(found["district"], found["programme"], found["source"], found["team"]),
        )

    async def remember_case(self, case: CaseRecord) -> None:
        await self._cases.update_one(
            {"_id": case.case_id},
            {
                "$setOnInsert": {
                    "person": await self._person(case.person),
                    "source": case.source,
                    "first_signal_at": case.first_signal_at,
                }
            },
            upsert=True,
            session=self._session,
        )

    async def case(self, case_id: str) -> CaseRecord:
        found = await self._cases.find_one({"_id": case_id}, session=self._session)
        if found is None:
            raise NotYetProjected(f"case {case_id}")
        return CaseRecord(case_id, found["person"], found["source"], found["first_signal_at"])

    async def forget(self, person: str, surrogate: str) -> int:
        """Replace a person's pseudonym everywhere; the figures do not change."""
        await self._persons.update_one(
            {"_id": _person_key(person)},
            {"$set": {"surrogate": surrogate}},
            upsert=True,
            session=self._session,
        )
        changed = 0
        for collection in (self._facts, self._signals, self._cases):
            result = await collection.update_many(
                {"person": person}, {"$set": {"person": surrogate}}, session=self._session
            )
            changed += result.modified_count
        return changed


def _person_key(person: str) -> str:
    """What the persons collection keys on: a one-way hash, not the pseudonym itself."""
    return hashlib.sha256(person.encode()).hexdigest()


def utc(moment: datetime) -> str:
    """A moment as a string that sorts in time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fact(
    fact_id: str,
    measure: str,
    day: date,
    dimensions: Dimensions,
    code: str | None,
    value: int,
    person: str | None,
) -> dict[str, Any]:
    fact: dict[str, Any] = {
        "_id": fact_id,
        "measure": measure,
        "day": day.isoformat(),
        "month": month_of(day),
        **dimensions.as_dict(),
        "value": value,
    }
    if code is not None:
        fact["code"] = code
    if person is not None:
        fact["person"] = person
    return fact


class FactQueries:
    """Aggregations over the facts for reports and metrics (read-only)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._facts: AsyncCollection[dict[str, Any]] = uow.db[FACTS]
        self._session = uow.session

    async def _aggregate(self, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
        cursor = await self._facts.aggregate(pipeline, session=self._session)
        return await cursor.to_list()

    @staticmethod
    def _match(
        measures: list[str], first: date | None, last: date, teams: frozenset[str] | None
    ) -> dict[str, Any]:
        days: dict[str, str] = {"$lte": last.isoformat()}
        if first is not None:
            days["$gte"] = first.isoformat()
        match: dict[str, Any] = {"measure": {"$in": measures}, "day": days}
        if teams is not None:
            match["team"] = {"$in": sorted(teams)}
        return match

    async def sums(
        self,
        measures: list[str],
        first: date | None,
        last: date,
        by: list[str],
        *,
        teams: frozenset[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Sum of values per measure and the fields in ``by`` (dimensions, "code",
        "month"); rows carry those fields and "value"."""
        fields = ["measure", *by]
        rows = await self._aggregate(
            [
                {"$match": self._match(measures, first, last, teams)},
                {
                    "$group": {
                        "_id": {f: {"$ifNull": [f"${f}", None]} for f in fields},
                        "value": {"$sum": "$value"},
                    }
                },
                {"$sort": {"_id": 1}},
            ]
        )
        return [{**row["_id"], "value": row["value"]} for row in rows]

    async def distinct_persons(
        self,
        measure: str,
        first: date | None,
        last: date,
        by: list[str],
        *,
        teams: frozenset[str] | None = None,
    ) -> list[dict[str, Any]]:
        """How many different persons the facts of ``measure`` name, per ``by``."""
        rows = await self._aggregate(
            [
                {"$match": {**self._match([measure], first, last, teams), "person": {"$ne": None}}},
                {"$group": {"_id": {**{f: f"${f}" for f in by}, "person": "$person"}}},
                {
                    "$group": {
                        "_id": {f: f"$_id.{f}" for f in by} if by else None,
                        "value": {"$sum": 1},
                    }
                },
                {"$sort": {"_id": 1}},
            ]
        )
        return [{**(row["_id"] or {}), "value": row["value"]} for row in rows]

    async def counts_by_value(
        self,
        measures: list[str],
        first: date | None,
        last: date,
        by: list[str],
        *,
        teams: frozenset[str] | None = None,
    ) -> list[dict[str, Any]]:
        """How many facts have each value (lead times in days), per measure and ``by``."""
        fields = ["measure", *by, "value"]
        rows = await self._aggregate(
            [
                {"$match": self._match(measures, first, last, teams)},
                {"$group": {"_id": {f: f"${f}" for f in fields}, "count": {"$sum": 1}}},
                {"$sort": {"_id": 1}},
            ]
        )
        return [{**row["_id"], "count": row["count"]} for row in rows]
