"""MongoDB collections of the signals service.

persons       one document per person: pseudonym, household (address) hash,
              identity (encrypted with the person's data key)
person_lookup one document per lookup hash (the HMAC of a BSN, or of name + birth
              date + postcode + house number) naming the person it finds
person_keys   the wrapped data key of each person, with the master key version
              (deleted = the person's data is unreadable everywhere)
signals       one document per signal; description encrypted with the person's key
intake_refs   the hashed partner references of bulk intake (the hash as ``_id``), each
              naming its signal: a reference is stored once per organisation
match_groups  one small document per person (and per household address) that every
              registration, withdrawal and expiry in the group writes: concurrent
              changes to one group conflict, so one of them runs again and sees the
              other (no missed and no double match); holds the current match id
archive       one document per person whose signals expired: pseudonym, the lookup
              hashes to recognise them again, and per signal the dates and whether
              a new signal has been told about it
case_access   which team holds an open case for which pseudonym (from the cases
              service's events): how case workers read signals
access_trail  who processed whose personal data in any service (personal-data-processed)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError

from buurtsignaal_contracts.codes import (
    AgeBand,
    Category,
    ExpiryReason,
    Programme,
    SourceType,
    WithdrawalReason,
)
from servicekit.audit import AUDIT_LOG
from servicekit.mongo import IndexSpec, RetryTransaction, UnitOfWork
from signals_service.domain.lifecycle import SignalStatus, is_active
from signals_service.domain.matching import ActiveSignal

PERSONS = "persons"
PERSON_KEYS = "person_keys"
PERSON_LOOKUP = "person_lookup"
SIGNALS = "signals"
INTAKE_REFS = "intake_refs"
MATCH_GROUPS = "match_groups"
ARCHIVE = "archive"
CASE_ACCESS = "case_access"
ACCESS_TRAIL = "access_trail"

# Every collection has an index, so that it exists before the first transaction
# writes to it: collections created implicitly inside concurrent transactions
# conflict with one another.
INDEXES = [
    IndexSpec(PERSON_KEYS, [("key_version", 1)]),
    IndexSpec(MATCH_GROUPS, [("match_id", 1)]),
    IndexSpec(PERSON_LOOKUP, [("person_id", 1)]),
    IndexSpec(PERSONS, [("pseudonym", 1)], unique=True),
    IndexSpec(SIGNALS, [("person_id", 1), ("status", 1)]),
    IndexSpec(SIGNALS, [("household_key", 1), ("status", 1)]),
    IndexSpec(SIGNALS, [("reporting_org", 1), ("received_at", -1), ("_id", -1)]),
    IndexSpec(SIGNALS, [("person", 1), ("received_at", -1), ("_id", -1)]),
    IndexSpec(SIGNALS, [("expires_on", 1)]),
    IndexSpec(INTAKE_REFS, [("signal_id", 1)]),
    IndexSpec(ARCHIVE, [("lookup_keys", 1)]),
    IndexSpec(ARCHIVE, [("next_purge_on", 1)]),
    IndexSpec(CASE_ACCESS, [("person", 1), ("open", 1)]),
    IndexSpec(CASE_ACCESS, [("team", 1), ("open", 1)]),
    IndexSpec(ACCESS_TRAIL, [("person", 1), ("at", 1)]),
]


def _versions_pattern(versions: list[str]) -> str:
    """Hashes of these key versions (versions are [a-z0-9], safe in a pattern)."""
    return "^(" + "|".join(versions) + "):"


def _enum_value(value: Any) -> Any:
    return value.value if value is not None else None


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
    expiry_reason: ExpiryReason
    description: bytes | None  # sealed with the person's data key
    status: SignalStatus = SignalStatus.ACTIVE
    earlier_signal_existed: bool = False
    household_key: str | None = None  # address hash at registration, for household matches
    intake_key: str | None = None  # hash of the partner's reference, for bulk intake
    withdrawn_at: datetime | None = None
    withdrawal_reason: WithdrawalReason | None = None

    def is_active(self, today: date) -> bool:
        return is_active(self.status, self.expires_on, today)

    def as_active(self) -> ActiveSignal:
        return ActiveSignal(self.id, self.reporting_org, self.reporter, self.received_at)

    def withdrawn(self, reason: WithdrawalReason, at: datetime) -> Signal:
        return replace(
            self, status=SignalStatus.WITHDRAWN, withdrawal_reason=reason, withdrawn_at=at
        )

    def to_document(self) -> dict[str, Any]:
        return {
            "_id": str(self.id),
            "person_id": self.person_id,
            "person": self.person,
            "reporting_org": self.reporting_org,
            "reporter": self.reporter,
            "source_type": self.source_type.value,
            "category": self.category.value,
            "district": self.district,
            "age_band": self.age_band.value,
            "suggested_programme": _enum_value(self.suggested_programme),
            "occurred_on": self.occurred_on.isoformat(),
            "received_at": self.received_at,
            "expires_on": self.expires_on.isoformat(),
            "expiry_reason": self.expiry_reason.value,
            "description": self.description,
            "status": self.status.value,
            "earlier_signal_existed": self.earlier_signal_existed,
            "household_key": self.household_key,
            "intake_key": self.intake_key,
            "withdrawn_at": self.withdrawn_at,
            "withdrawal_reason": _enum_value(self.withdrawal_reason),
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Signal:
        programme = doc.get("suggested_programme")
        reason = doc.get("withdrawal_reason")
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
            suggested_programme=Programme(programme) if programme else None,
            occurred_on=date.fromisoformat(doc["occurred_on"]),
            received_at=doc["received_at"],
            expires_on=date.fromisoformat(doc["expires_on"]),
            expiry_reason=ExpiryReason(doc.get("expiry_reason", ExpiryReason.RETENTION_PERIOD)),
            description=doc.get("description"),
            status=SignalStatus(doc["status"]),
            earlier_signal_existed=doc.get("earlier_signal_existed", False),
            household_key=doc.get("household_key"),
            intake_key=doc.get("intake_key"),
            withdrawn_at=doc.get("withdrawn_at"),
            withdrawal_reason=WithdrawalReason(reason) if reason else None,
        )


@dataclass(frozen=True)
class WrappedKey:
    wrapped: bytes
    version: str


class PersonStore:
    """Persons, their wrapped data keys, and the lookup hashes they are found by.

    The lookup hashes are documents of their own (``person_lookup``, the hash as
    ``_id``) rather than an indexed array on the person: the ``_id`` keeps each
    hash with one person, and registrations of different people never touch the
    same index entries (an array index made the MongoDB stand-in report write
    conflicts between unrelated transactions). Documents returned here carry the
    person's hashes as ``lookup_keys``.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._persons = uow.db[PERSONS]
        self._keys = uow.db[PERSON_KEYS]
        self._lookup = uow.db[PERSON_LOOKUP]
        self._session = uow.session

    async def get(self, person_id: str) -> dict[str, Any]:
        doc = await self._persons.find_one({"_id": person_id}, session=self._session)
        if doc is None:
            raise LookupError(f"person {person_id} does not exist")
        return (await self._with_lookup_keys([doc]))[0]

    async def find_all_by_lookup(self, hashes: list[str]) -> list[dict[str, Any]]:
        """Every person holding one of the hashes, the longest known first."""
        found = await self._lookup.find({"_id": {"$in": hashes}}, session=self._session).to_list()
        ids = sorted({f["person_id"] for f in found})
        if not ids:
            return []
        cursor = self._persons.find({"_id": {"$in": ids}}, session=self._session)
        return await self._with_lookup_keys(
            await cursor.sort([("created_at", 1), ("_id", 1)]).to_list()
        )

    async def find_by_pseudonym(self, pseudonym: str) -> dict[str, Any] | None:
        doc = await self._persons.find_one({"pseudonym": pseudonym}, session=self._session)
        return (await self._with_lookup_keys([doc]))[0] if doc else None

    async def _with_lookup_keys(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = await self._lookup.find(
            {"person_id": {"$in": [d["_id"] for d in docs]}}, session=self._session
        ).to_list()
        for doc in docs:
            doc["lookup_keys"] = sorted(r["_id"] for r in rows if r["person_id"] == doc["_id"])
        return docs

    async def create(
        self, person: dict[str, Any], wrapped: WrappedKey, lookup_keys: list[str]
    ) -> None:
        await self._persons.insert_one(person, session=self._session)
        await self._insert_lookup_keys(person["_id"], lookup_keys)
        await self._keys.insert_one(
            {"_id": person["_id"], "wrapped": wrapped.wrapped, "key_version": wrapped.version},
            session=self._session,
        )

    async def set_lookup_keys(self, person_id: str, hashes: list[str]) -> None:
        stored = await self._lookup.find({"person_id": person_id}, session=self._session).to_list()
        current = {r["_id"] for r in stored}
        if gone := sorted(current - set(hashes)):
            await self._lookup.delete_many({"_id": {"$in": gone}}, session=self._session)
        await self._insert_lookup_keys(person_id, sorted(set(hashes) - current))

    async def _insert_lookup_keys(self, person_id: str, hashes: list[str]) -> None:
        if not hashes:
            return
        try:
            await self._lookup.insert_many(
                [{"_id": h, "person_id": person_id} for h in hashes], session=self._session
            )
        except (DuplicateKeyError, BulkWriteError) as race:
            # The same person was registered by a concurrent signal: run again
            # and find them.
            raise RetryTransaction from race

    async def replace_identity(
        self, person_id: str, sealed_identity: bytes, address_key: str | None, has_bsn: bool
    ) -> None:
        await self._persons.update_one(
            {"_id": person_id},
            {"$set": {"identity": sealed_identity, "address_key": address_key, "has_bsn": has_bsn}},
            session=self._session,
        )

    async def set_address_key(self, person_id: str, address_key: str | None) -> None:
        await self._persons.update_one(
            {"_id": person_id}, {"$set": {"address_key": address_key}}, session=self._session
        )

    async def wrapped_key(self, person_id: str) -> WrappedKey | None:
        doc = await self._keys.find_one({"_id": person_id}, session=self._session)
        if doc is None:
            return None
        return WrappedKey(doc["wrapped"], doc.get("key_version", "e1"))

    async def replace_wrapped_key(self, person_id: str, wrapped: WrappedKey) -> None:
        await self._keys.update_one(
            {"_id": person_id},
            {"$set": {"wrapped": wrapped.wrapped, "key_version": wrapped.version}},
            session=self._session,
        )

    async def count_holding_versions(self, versions: list[str]) -> int:
        if not versions:
            return 0
        rows = await self._lookup.find(
            {"_id": {"$regex": _versions_pattern(versions)}},
            {"person_id": 1},
            session=self._session,
        ).to_list()
        return len({r["person_id"] for r in rows})

    async def count_keys_not_wrapped_by(self, version: str) -> int:
        return await self._keys.count_documents(
            {"key_version": {"$ne": version}}, session=self._session
        )

    async def delete(self, person_id: str) -> None:
        """Forget the person: their identity, their hashes, and the key that opens every copy."""
        await self._keys.delete_one({"_id": person_id}, session=self._session)
        await self._lookup.delete_many({"person_id": person_id}, session=self._session)
        await self._persons.delete_one({"_id": person_id}, session=self._session)

    async def ids_after(self, after: str | None, limit: int) -> list[str]:
        query = {"_id": {"$gt": after}} if after else {}
        cursor = self._persons.find(query, {"_id": 1}, session=self._session)
        return [d["_id"] for d in await cursor.sort("_id", 1).limit(limit).to_list()]


class SignalStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._signals = uow.db[SIGNALS]
        self._refs = uow.db[INTAKE_REFS]
        self._session = uow.session

    async def add(self, signal: Signal) -> None:
        await self._signals.insert_one(signal.to_document(), session=self._session)
        if signal.intake_key is None:
            return
        try:
            await self._refs.insert_one(
                {
                    "_id": signal.intake_key,
                    "signal_id": str(signal.id),
                    "expires_on": signal.expires_on.isoformat(),
                },
                session=self._session,
            )
        except DuplicateKeyError as race:
            # The same partner reference arrived twice at once: run again, and
            # the second finds the first.
            raise RetryTransaction from race

    async def get(self, signal_id: uuid.UUID) -> Signal | None:
        doc = await self._signals.find_one({"_id": str(signal_id)}, session=self._session)
        return Signal.from_document(doc) if doc else None

    async def by_intake_key(self, keys: list[str]) -> Signal | None:
        ref = await self._refs.find_one({"_id": {"$in": keys}}, session=self._session)
        return await self.get(uuid.UUID(ref["signal_id"])) if ref else None

    async def save_withdrawal(self, signal: Signal) -> None:
        await self._signals.update_one(
            {"_id": str(signal.id)},
            {
                "$set": {
                    "status": signal.status.value,
                    "withdrawn_at": signal.withdrawn_at,
                    "withdrawal_reason": _enum_value(signal.withdrawal_reason),
                }
            },
            session=self._session,
        )

    async def delete(self, signal_id: uuid.UUID) -> None:
        await self._refs.delete_many({"signal_id": str(signal_id)}, session=self._session)
        await self._signals.delete_one({"_id": str(signal_id)}, session=self._session)

    async def of_person(self, person_id: str) -> list[Signal]:
        cursor = self._signals.find({"person_id": person_id}, session=self._session)
        return [Signal.from_document(d) for d in await cursor.sort("received_at", 1).to_list()]

    async def any_of_person(self, person_id: str) -> bool:
        found = await self._signals.find_one(
            {"person_id": person_id}, {"_id": 1}, session=self._session
        )
        return found is not None

    async def active_in_group(self, selector: dict[str, str], today: date) -> list[Signal]:
        """Active signals of a person ({"person_id": ..}) or household ({"household_key": ..})."""
        cursor = self._signals.find(
            {
                **selector,
                "status": SignalStatus.ACTIVE.value,
                "expires_on": {"$gt": today.isoformat()},
            },
            session=self._session,
        )
        return [Signal.from_document(d) for d in await cursor.sort("received_at", 1).to_list()]

    async def active_of_person_by_pseudonym(self, pseudonym: str, today: date) -> list[Signal]:
        cursor = self._signals.find(
            {
                "person": pseudonym,
                "status": SignalStatus.ACTIVE.value,
                "expires_on": {"$gt": today.isoformat()},
            },
            session=self._session,
        )
        return [Signal.from_document(d) for d in await cursor.sort("received_at", 1).to_list()]

    async def due_for_expiry(
        self, today: date, limit: int, skip_ids: frozenset[str] = frozenset()
    ) -> list[uuid.UUID]:
        query: dict[str, Any] = {"expires_on": {"$lte": today.isoformat()}}
        if skip_ids:
            query["_id"] = {"$nin": sorted(skip_ids)}
        cursor = self._signals.find(query, {"_id": 1}, session=self._session)
        docs = await cursor.sort([("expires_on", 1), ("_id", 1)]).limit(limit).to_list()
        return [uuid.UUID(d["_id"]) for d in docs]

    async def intake_keys_holding_versions(self, versions: list[str]) -> tuple[int, date | None]:
        """Batch references hashed with these key versions, and when the last one expires."""
        if not versions:
            return 0, None
        query = {"_id": {"$regex": _versions_pattern(versions)}}
        refs = await self._refs.find(query, {"expires_on": 1}, session=self._session).to_list()
        last = max((r["expires_on"] for r in refs), default=None)
        return len(refs), date.fromisoformat(last) if last else None

    async def set_household_key(self, person_id: str, old: str, new: str | None) -> None:
        await self._signals.update_many(
            {"person_id": person_id, "household_key": old},
            {"$set": {"household_key": new}},
            session=self._session,
        )

    async def page(
        self, query: dict[str, Any], *, limit: int, after: tuple[datetime, str] | None
    ) -> list[Signal]:
        """Newest first; ``after`` is the (received_at, id) of the last item seen."""
        if after is not None:
            received_at, last_id = after
            query = {
                "$and": [
                    query,
                    {
                        "$or": [
                            {"received_at": {"$lt": received_at}},
                            {"received_at": received_at, "_id": {"$lt": last_id}},
                        ]
                    },
                ]
            }
        cursor = self._signals.find(query, session=self._session).sort(
            [("received_at", -1), ("_id", -1)]
        )
        return [Signal.from_document(d) for d in await cursor.limit(limit).to_list()]


@dataclass(frozen=True)
class MatchGroup:
    id: str
    match_id: uuid.UUID | None


class MatchGroupStore:
    """The serialisation point of matching: see the module docstring."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._groups = uow.db[MATCH_GROUPS]
        self._session = uow.session

    async def touch(self, group_id: str, *, create: bool = True) -> MatchGroup | None:
        """Write the group's version, so a concurrent change of the group conflicts."""
        try:
            doc = await self._groups.find_one_and_update(
                {"_id": group_id},
                {"$inc": {"version": 1}},
                upsert=create,
                return_document=ReturnDocument.AFTER,
                session=self._session,
            )
        except DuplicateKeyError as race:
            raise RetryTransaction from race
        if doc is None:
            return None
        match_id = doc.get("match_id")
        return MatchGroup(group_id, uuid.UUID(match_id) if match_id else None)

    async def set_match(self, group_id: str, match_id: uuid.UUID | None) -> None:
        value = str(match_id) if match_id else None
        await self._groups.update_one(
            {"_id": group_id}, {"$set": {"match_id": value}}, session=self._session
        )

    async def delete(self, group_id: str) -> None:
        await self._groups.delete_one({"_id": group_id}, session=self._session)

    async def rename(self, old_id: str, new_id: str) -> None:
        doc = await self._groups.find_one({"_id": old_id}, session=self._session)
        if doc is None:
            return
        await self._groups.delete_one({"_id": old_id}, session=self._session)
        doc["_id"] = new_id
        try:
            await self._groups.insert_one(doc, session=self._session)
        except DuplicateKeyError as race:
            raise RetryTransaction from race


@dataclass(frozen=True)
class ArchivedSignal:
    signal_id: str
    registered_on: date
    expired_on: date
    reason: ExpiryReason
    purge_on: date
    told: bool = False

    def to_document(self) -> dict[str, Any]:
        return {
            "signal_id": self.signal_id,
            "registered_on": self.registered_on.isoformat(),
            "expired_on": self.expired_on.isoformat(),
            "reason": self.reason.value,
            "purge_on": self.purge_on.isoformat(),
            "told": self.told,
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> ArchivedSignal:
        return cls(
            signal_id=doc["signal_id"],
            registered_on=date.fromisoformat(doc["registered_on"]),
            expired_on=date.fromisoformat(doc["expired_on"]),
            reason=ExpiryReason(doc["reason"]),
            purge_on=date.fromisoformat(doc["purge_on"]),
            told=doc["told"],
        )


class ArchiveStore:
    """Minimal records of expired signals: enough to say "there was one", once."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._archive = uow.db[ARCHIVE]
        self._session = uow.session

    async def add(
        self, person_id: str, pseudonym: str, lookup_keys: list[str], entry: ArchivedSignal
    ) -> None:
        await self._archive.update_one(
            {"_id": person_id},
            {
                "$setOnInsert": {"person": pseudonym},
                "$addToSet": {"lookup_keys": {"$each": lookup_keys}},
                "$push": {"signals": entry.to_document()},
                "$min": {"next_purge_on": entry.purge_on.isoformat()},
            },
            upsert=True,
            session=self._session,
        )

    async def tell_once(self, person_id: str, lookup_keys: list[str]) -> bool:
        """Whether an untold archived signal exists for the person; marks them all told."""
        cursor = self._archive.find(
            {"$or": [{"_id": person_id}, {"lookup_keys": {"$in": lookup_keys}}]},
            session=self._session,
        )
        told_now = False
        for doc in await cursor.sort("_id", 1).to_list():
            entries = [ArchivedSignal.from_document(e) for e in doc["signals"]]
            if all(e.told for e in entries):
                continue
            told_now = True
            await self._archive.update_one(
                {"_id": doc["_id"]},
                {"$set": {"signals": [replace(e, told=True).to_document() for e in entries]}},
                session=self._session,
            )
        return told_now

    async def due_for_purge(
        self, today: date, limit: int, skip_ids: frozenset[str] = frozenset()
    ) -> list[str]:
        query: dict[str, Any] = {"next_purge_on": {"$lte": today.isoformat()}}
        if skip_ids:
            query["_id"] = {"$nin": sorted(skip_ids)}
        cursor = self._archive.find(query, {"_id": 1}, session=self._session)
        docs = await cursor.sort([("next_purge_on", 1), ("_id", 1)]).limit(limit).to_list()
        return [d["_id"] for d in docs]

    async def purge(self, archive_id: str, today: date) -> int:
        """Remove the entries whose time is up (the whole record when none is left)."""
        doc = await self._archive.find_one({"_id": archive_id}, session=self._session)
        if doc is None:
            return 0
        entries = [ArchivedSignal.from_document(e) for e in doc["signals"]]
        keep = [e for e in entries if e.purge_on > today]
        if not keep:
            await self._archive.delete_one({"_id": archive_id}, session=self._session)
        elif len(keep) < len(entries):
            await self._archive.update_one(
                {"_id": archive_id},
                {
                    "$set": {
                        "signals": [e.to_document() for e in keep],
                        "next_purge_on": min(e.purge_on for e in keep).isoformat(),
                    }
                },
                session=self._session,
            )
        return len(entries) - len(keep)

    async def find_by_lookup(self, lookup_keys: list[str]) -> list[dict[str, Any]]:
        cursor = self._archive.find(
            {"lookup_keys": {"$in": lookup_keys}}, {"person": 1}, session=self._session
        )
        return await cursor.sort("_id", 1).to_list()

    async def delete_for(self, person_id: str, lookup_keys: list[str]) -> None:
        await self._archive.delete_many(
            {"$or": [{"_id": person_id}, {"lookup_keys": {"$in": lookup_keys}}]},
            session=self._session,
        )

    async def holding_versions(self, versions: list[str]) -> tuple[int, date | None]:
        """Records with hashes of these key versions, and the day the last of them is purged.

        Archived hashes cannot be re-hashed (the identity they came from is gone),
        so a retired lookup key is needed until then.
        """
        if not versions:
            return 0, None
        query = {"lookup_keys": {"$regex": _versions_pattern(versions)}}
        docs = await self._archive.find(query, {"signals": 1}, session=self._session).to_list()
        purge_days = [e["purge_on"] for d in docs for e in d["signals"]]
        return len(docs), date.fromisoformat(max(purge_days)) if purge_days else None


class CaseAccessStore:
    """Which team holds an open case about which pseudonym (projected from cases' events)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._access = uow.db[CASE_ACCESS]
        self._session = uow.session

    async def opened(self, case_id: str, person: str, team: str, at: datetime) -> None:
        await self._access.update_one(
            {"_id": case_id},
            {"$set": {"person": person, "team": team}, "$setOnInsert": {"open": True, "at": at}},
            upsert=True,
            session=self._session,
        )

    async def set_open(self, case_id: str, team: str, is_open: bool, at: datetime) -> None:
        """Apply a close or reopen unless a later one was applied already (order-safe)."""
        doc = await self._access.find_one({"_id": case_id}, session=self._session)
        if doc is not None and doc.get("at") is not None and doc["at"] > at:
            return
        await self._access.update_one(
            {"_id": case_id},
            {"$set": {"team": team, "open": is_open, "at": at}},
            upsert=True,
            session=self._session,
        )

    async def set_team(self, case_id: str, team: str) -> None:
        await self._access.update_one(
            {"_id": case_id}, {"$set": {"team": team}}, session=self._session
        )

    async def teams_with_open_case(self, person: str) -> frozenset[str]:
        cursor = self._access.find({"person": person, "open": True}, session=self._session)
        return frozenset(d["team"] for d in await cursor.to_list())

    async def persons_of_teams(self, teams: frozenset[str]) -> list[str]:
        cursor = self._access.find(
            {"team": {"$in": sorted(teams)}, "open": True, "person": {"$exists": True}},
            {"person": 1},
            session=self._session,
        )
        return sorted({d["person"] for d in await cursor.to_list()})

    async def forget_person(self, person: str) -> None:
        await self._access.delete_many({"person": person}, session=self._session)


class AccessTrailStore:
    """Who processed whose personal data, in every service (``personal-data-processed``)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._trail = uow.db[ACCESS_TRAIL]
        self._audit = uow.db[AUDIT_LOG]
        self._session = uow.session

    async def add(self, entry: dict[str, Any]) -> None:
        """Store one processing; the processing id as ``_id`` keeps a redelivery out."""
        await self._trail.update_one(
            {"_id": entry["_id"]}, {"$setOnInsert": entry}, upsert=True, session=self._session
        )

    async def of_person(self, pseudonym: str) -> list[dict[str, Any]]:
        """Every service's processing of the person, oldest first: the other services'
        as collected here, this one's from its own audit log (one entry per act)."""
        cursor = self._trail.find({"person": pseudonym}, session=self._session)
        collected = await cursor.to_list()
        own = await self._audit.find({"person": pseudonym}, session=self._session).to_list()
        acts: dict[str, dict[str, Any]] = {}
        for record in own:
            # Records written before the kit's audit log named the act differently.
            act_id = record.get("processing_id") or record["_id"]
            act = acts.get(act_id)
            if act is None:
                acts[act_id] = {
                    **record,
                    "_id": act_id,
                    "service": record.get("service") or "signals",
                    "user": record.get("user") or record.get("actor"),
                    "activity": record.get("activity") or record.get("purpose"),
                    "organisation": record.get("org"),
                    "categories": record.get("categories") or [],
                    "route": record.get("route") or "unrecorded",
                    "records": [record["record"]],
                }
            else:
                act["records"].append(record["record"])
        return sorted([*collected, *acts.values()], key=lambda e: (e["at"], e["_id"]))
