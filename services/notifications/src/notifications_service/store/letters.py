"""Mayor's letters (the record, and the encrypted PDF while it may be kept).

letters     one per mayor-letter-requested: ids, codes, dates, status; the PDF
            sealed with the vault while the letter is ready, removed at
            delivery, expiry or erasure (see domain/letters.py).

Who fetched, read and delivered which letter is in the kit's audit log
(``servicekit.audit``, collection ``audit_log``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from buurtsignaal_contracts.codes import LetterAddressee, Programme
from notifications_service.domain.letters import FailureReason, LetterStatus
from servicekit.mongo import IndexSpec, UnitOfWork

LETTERS = "letters"

INDEXES = [
    IndexSpec(LETTERS, [("case_id", 1), ("requested_at", -1)]),
    IndexSpec(LETTERS, [("status", 1), ("next_attempt_at", 1)], name="due_for_rendering"),
    IndexSpec(LETTERS, [("status", 1), ("keep_until", 1)], name="due_for_purge"),
    IndexSpec(LETTERS, [("person", 1)]),
]


@dataclass
class Delivery:
    method: str
    handed_to: str
    delivered_on: date
    recorded_by: str
    recorded_at: datetime

    def to_document(self) -> dict[str, Any]:
        return {**vars(self), "delivered_on": self.delivered_on.isoformat()}

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Delivery:
        return cls(**{**doc, "delivered_on": date.fromisoformat(doc["delivered_on"])})


@dataclass
class Letter:
    id: uuid.UUID
    case_id: str
    team: str
    programme: Programme
    district: str
    person: str | None  # the pseudonym; None once the person's data is erased
    addressees: list[LetterAddressee]
    worker: str
    requested_at: datetime
    cause_event_id: str
    cause_event_type: str
    correlation_id: str
    status: LetterStatus = LetterStatus.REQUESTED
    attempts: int = 0
    next_attempt_at: datetime | None = None
    rendered_at: datetime | None = None
    keep_until: datetime | None = None
    pdf: bytes | None = None  # sealed
    pdf_bytes: int | None = None
    failure: FailureReason | None = None
    delivery: Delivery | None = None
    pdf_destroyed_at: datetime | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_document(self) -> dict[str, Any]:
        return {
            "_id": str(self.id),
            "case_id": self.case_id,
            "team": self.team,
            "programme": self.programme.value,
            "district": self.district,
            "person": self.person,
            "addressees": [a.value for a in self.addressees],
            "worker": self.worker,
            "requested_at": self.requested_at,
            "cause_event_id": self.cause_event_id,
            "cause_event_type": self.cause_event_type,
            "correlation_id": self.correlation_id,
            "status": self.status.value,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at,
            "rendered_at": self.rendered_at,
            "keep_until": self.keep_until,
            "pdf": self.pdf,
            "pdf_bytes": self.pdf_bytes,
            "failure": self.failure.value if self.failure else None,
            "delivery": self.delivery.to_document() if self.delivery else None,
            "pdf_destroyed_at": self.pdf_destroyed_at,
            "history": self.history,
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Letter:
        return cls(
            id=uuid.UUID(doc["_id"]),
            case_id=doc["case_id"],
            team=doc["team"],
            programme=Programme(doc["programme"]),
            district=doc["district"],
            person=doc.get("person"),
            addressees=[LetterAddressee(a) for a in doc["addressees"]],
            worker=doc["worker"],
            requested_at=doc["requested_at"],
            cause_event_id=doc["cause_event_id"],
            cause_event_type=doc["cause_event_type"],
            correlation_id=doc["correlation_id"],
            status=LetterStatus(doc["status"]),
            attempts=doc.get("attempts", 0),
            next_attempt_at=doc.get("next_attempt_at"),
            rendered_at=doc.get("rendered_at"),
            keep_until=doc.get("keep_until"),
            pdf=bytes(doc["pdf"]) if doc.get("pdf") is not None else None,
            pdf_bytes=doc.get("pdf_bytes"),
            failure=FailureReason(doc["failure"]) if doc.get("failure") else None,
            delivery=Delivery.from_document(doc["delivery"]) if doc.get("delivery") else None,
            pdf_destroyed_at=doc.get("pdf_destroyed_at"),
            history=doc.get("history", []),
        )


class LetterStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._items = uow.db[LETTERS]
        self._session = uow.session

    async def add(self, letter: Letter) -> None:
        await self._items.insert_one(letter.to_document(), session=self._session)

    async def get(self, letter_id: uuid.UUID | str) -> Letter | None:
        doc = await self._items.find_one({"_id": str(letter_id)}, session=self._session)
        return Letter.from_document(doc) if doc else None

    async def save(self, letter: Letter, *, expected_status: LetterStatus) -> bool:
        """Replace the letter if nobody changed its status meanwhile."""
        result = await self._items.replace_one(
            {"_id": str(letter.id), "status": expected_status.value},
            letter.to_document(),
            session=self._session,
        )
        return result.modified_count == 1

    async def of_case(self, case_id: str) -> list[Letter]:
        query = {"case_id": case_id}
        cursor = self._items.find(query, session=self._session).sort("requested_at", -1)
        return [Letter.from_document(d) for d in await cursor.to_list()]

    async def delete(self, letter_id: uuid.UUID) -> None:
        await self._items.delete_one({"_id": str(letter_id)}, session=self._session)

    async def of_person(self, pseudonym: str) -> list[Letter]:
        cursor = self._items.find({"person": pseudonym}, session=self._session).sort("_id", 1)
        return [Letter.from_document(d) for d in await cursor.to_list()]

    async def past_retention(self, now: datetime, limit: int = 100) -> list[Letter]:
        cursor = self._items.find(
            {"status": LetterStatus.READY.value, "keep_until": {"$lte": now}},
            session=self._session,
        ).sort([("keep_until", 1), ("_id", 1)])
        return [Letter.from_document(d) for d in await cursor.limit(limit).to_list()]


class RenderQueue:
    """Claims of requested letters for the renderer (atomic updates, no transaction)."""

    def __init__(self, db: Any) -> None:
        self._items = db[LETTERS]

    async def claim_due(self, now: datetime, lease: timedelta) -> tuple[Letter, datetime] | None:
        lease_until = now + lease
        # Milliseconds, as MongoDB stores them: the renderer compares it on its return.
        lease_until = lease_until.replace(microsecond=lease_until.microsecond // 1000 * 1000)
        doc = await self._items.find_one_and_update(
            {"status": LetterStatus.REQUESTED.value, "next_attempt_at": {"$lte": now}},
            # Claimed by pushing the next attempt past the lease: a crashed renderer's
            # letter becomes due again by itself.
            {"$set": {"next_attempt_at": lease_until}, "$inc": {"attempts": 1}},
            sort=[("next_attempt_at", 1), ("_id", 1)],
            return_document=True,
        )
        return (Letter.from_document(doc), lease_until) if doc else None
