"""MongoDB collections of the signals service.

persons      one document per person: pseudonym, lookup hashes, identity (encrypted)
person_keys  the wrapped data key of each person (deleted = person shredded)
signals      one document per signal; description encrypted with the person's key
audit_log    who read or wrote whose personal data, when and why
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from buurtsignaal_contracts.codes import AgeBand, Category, Programme, SourceType
from servicekit.mongo import IndexSpec, UnitOfWork

PERSONS = "persons"
PERSON_KEYS = "person_keys"
SIGNALS = "signals"
AUDIT_LOG = "audit_log"

INDEXES = [
    IndexSpec(PERSONS, [("lookup_keys", 1)], unique=True, name="unique_lookup_keys"),
    IndexSpec(PERSONS, [("pseudonym", 1)], unique=True),
    IndexSpec(SIGNALS, [("person_id", 1), ("status", 1)]),
    IndexSpec(SIGNALS, [("reporting_org", 1), ("received_at", -1), ("_id", -1)]),
    IndexSpec(SIGNALS, [("status", 1), ("expires_on", 1)]),
    IndexSpec(AUDIT_LOG, [("person", 1), ("at", 1)]),
]


@dataclass(frozen=True)
class Signal:
    id: uuid.UUID
    person_id: str
    person: str  # pseudonym
    reporting_org: str
    reporter: str
    source_type: SourceType
    category: Category
    district: str
    age_band: AgeBand
    suggested_programme: Programme | None
    occurred_on: date
    received_at: datetime
    expires_on: date
    description: bytes | None  # sealed with the person's data key
    status: str = "active"
    earlier_signal_existed: bool = False

    def to_document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["_id"] = str(doc.pop("id"))
        for key in ("occurred_on", "expires_on"):
            doc[key] = doc[key].isoformat()
        for key in ("source_type", "category", "age_band", "suggested_programme"):
            doc[key] = doc[key].value if doc[key] is not None else None
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Signal:
        return cls(
            id=uuid.UUID(doc["_id"]),
            person_id=doc["person_id"],
            person=doc["person"],
            reporting_org=doc["reporting_org"],
            reporter=doc["reporter"],
            source_type=SourceType(doc["source_type"]),
            category=Category(doc["category"]),
            district=doc["district"],
            age_band=AgeBand(doc["age_band"]),
            suggested_programme=Programme(doc["suggested_programme"])
            if doc.get("suggested_programme")
            else None,
            occurred_on=date.fromisoformat(doc["occurred_on"]),
            received_at=doc["received_at"],
            expires_on=date.fromisoformat(doc["expires_on"]),
            description=doc.get("description"),
            status=doc["status"],
            earlier_signal_existed=doc.get("earlier_signal_existed", False),
        )


class PersonStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._persons = uow.db[PERSONS]
        self._keys = uow.db[PERSON_KEYS]
        self._session = uow.session

    async def get(self, person_id: str) -> dict[str, Any]:
        doc = await self._persons.find_one({"_id": person_id}, session=self._session)
        if doc is None:
            raise LookupError(f"person {person_id} does not exist")
        return doc

    async def find_by_lookup(self, hashes: list[str]) -> dict[str, Any] | None:
        return await self._persons.find_one({"lookup_keys": {"$in": hashes}}, session=self._session)

    async def create(self, person: dict[str, Any], wrapped_key: bytes) -> None:
        await self._persons.insert_one(person, session=self._session)
        await self._keys.insert_one(
            {"_id": person["_id"], "wrapped": wrapped_key}, session=self._session
        )

    async def add_lookup_keys(self, person_id: str, hashes: list[str]) -> None:
        await self._persons.update_one(
            {"_id": person_id},
            {"$addToSet": {"lookup_keys": {"$each": hashes}}},
            session=self._session,
        )

    async def replace_identity(self, person_id: str, sealed_identity: bytes) -> None:
        await self._persons.update_one(
            {"_id": person_id}, {"$set": {"identity": sealed_identity}}, session=self._session
        )

    async def find_by_pseudonym(self, pseudonym: str) -> dict[str, Any] | None:
        return await self._persons.find_one({"pseudonym": pseudonym}, session=self._session)

    async def wrapped_key(self, person_id: str) -> bytes | None:
        doc = await self._keys.find_one({"_id": person_id}, session=self._session)
        return doc["wrapped"] if doc else None


class SignalStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._signals = uow.db[SIGNALS]
        self._session = uow.session

    async def add(self, signal: Signal) -> None:
        await self._signals.insert_one(signal.to_document(), session=self._session)

    async def get(self, signal_id: uuid.UUID) -> Signal | None:
        doc = await self._signals.find_one({"_id": str(signal_id)}, session=self._session)
        return Signal.from_document(doc) if doc else None

    async def page(
        self, query: dict[str, Any], *, limit: int, after: tuple[datetime, str] | None
    ) -> list[Signal]:
        """Newest first; ``after`` is the (received_at, id) of the last item seen."""
        if after is not None:
            received_at, last_id = after
            query = {
                **query,
                "$or": [
                    {"received_at": {"$lt": received_at}},
                    {"received_at": received_at, "_id": {"$lt": last_id}},
                ],
            }
        cursor = self._signals.find(query, session=self._session).sort(
            [("received_at", -1), ("_id", -1)]
        )
        return [Signal.from_document(d) for d in await cursor.limit(limit).to_list()]


class AuditLog:
    """Every read and write of personal data (the security issue deepens this)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._log = uow.db[AUDIT_LOG]
        self._session = uow.session
        self._clock = uow.clock

    async def record(
        self,
        *,
        actor: str,
        org: str | None,
        action: str,
        purpose: str,
        person: str,
        record: str,
        on_behalf_of: str | None = None,
    ) -> None:
        await self._log.insert_one(
            {
                "_id": str(uuid.uuid4()),
                "at": self._clock.now(),
                "actor": actor,
                "on_behalf_of": on_behalf_of,
                "org": org,
                "action": action,
                "purpose": purpose,
                "person": person,
                "record": record,
            },
            session=self._session,
        )
