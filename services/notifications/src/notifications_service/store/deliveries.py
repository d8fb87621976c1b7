"""Deliveries: the outbox of e-mails and webhooks, with every attempt.

A delivery is written in the transaction that handles its event, under a
unique key (event, topic, channel, recipient). The delivery worker claims due
deliveries with a lease (one atomic update each, so several replicas never
claim the same one), sends them outside any transaction and then records the
attempt and the outcome.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from buurtsignaal_contracts.codes import NotificationChannel, RecipientKind
from notifications_service.domain.deliveries import AttemptOutcome, Decision, DeliveryStatus
from servicekit.mongo import IndexSpec, UnitOfWork

DELIVERIES = "deliveries"

INDEXES = [
    IndexSpec(DELIVERIES, [("key", 1)], unique=True, name="once_per_event_channel_recipient"),
    IndexSpec(DELIVERIES, [("status", 1), ("next_attempt_at", 1)], name="due"),
    IndexSpec(DELIVERIES, [("created_at", -1)]),
]


@dataclass
class Email:
    to: str
    subject: str
    text: str
    html: str


@dataclass
class Webhook:
    subscription_id: str
    body: dict[str, Any]


@dataclass
class Attempt:
    number: int
    at: datetime
    outcome: AttemptOutcome
    duration_ms: float
    error: str | None = None  # a class name or a status code: never a message with data
    status_code: int | None = None

    def to_document(self) -> dict[str, Any]:
        return {**vars(self), "outcome": self.outcome.value}


@dataclass
class Delivery:
    id: uuid.UUID
    key: str
    channel: NotificationChannel
    recipient_kind: RecipientKind
    recipient: str
    topic: str
    cause_event_id: str
    cause_event_type: str
    correlation_id: str | None
    created_at: datetime
    next_attempt_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    email: Email | None = None
    webhook: Webhook | None = None
    attempts: list[Attempt] = field(default_factory=list)
    tries: int = 0  # attempts since it was (re)queued: what the retry schedule counts
    sent_at: datetime | None = None
    claim: str | None = None
    case_id: str | None = None  # what it is about, for erasure only (never sent)
    person: str | None = None

    @staticmethod
    def key_of(
        cause_event_id: str, topic: str, channel: NotificationChannel, kind: RecipientKind, ref: str
    ) -> str:
        return f"{cause_event_id}:{topic}:{channel.value}:{kind.value}:{ref}"

    def to_document(self) -> dict[str, Any]:
        return {
            "_id": str(self.id),
            "key": self.key,
            "channel": self.channel.value,
            "recipient_kind": self.recipient_kind.value,
            "recipient": self.recipient,
            "topic": self.topic,
            "cause_event_id": self.cause_event_id,
            "cause_event_type": self.cause_event_type,
            "correlation_id": self.correlation_id,
            "created_at": self.created_at,
            "next_attempt_at": self.next_attempt_at,
            "status": self.status.value,
            "email": vars(self.email) if self.email else None,
            "webhook": vars(self.webhook) if self.webhook else None,
            "attempts": [a.to_document() for a in self.attempts],
            "tries": self.tries,
            "sent_at": self.sent_at,
            "claim": self.claim,
            "case_id": self.case_id,
            "person": self.person,
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Delivery:
        return cls(
            id=uuid.UUID(doc["_id"]),
            key=doc["key"],
            channel=NotificationChannel(doc["channel"]),
            recipient_kind=RecipientKind(doc["recipient_kind"]),
            recipient=doc["recipient"],
            topic=doc["topic"],
            cause_event_id=doc["cause_event_id"],
            cause_event_type=doc["cause_event_type"],
            correlation_id=doc.get("correlation_id"),
            created_at=doc["created_at"],
            next_attempt_at=doc["next_attempt_at"],
            status=DeliveryStatus(doc["status"]),
            email=Email(**doc["email"]) if doc.get("email") else None,
            webhook=Webhook(**doc["webhook"]) if doc.get("webhook") else None,
            attempts=[
                Attempt(**{**a, "outcome": AttemptOutcome(a["outcome"])})
                for a in doc.get("attempts", [])
            ],
            tries=doc.get("tries", 0),
            sent_at=doc.get("sent_at"),
            claim=doc.get("claim"),
            case_id=doc.get("case_id"),
            person=doc.get("person"),
        )


class DeliveryStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._items = uow.db[DELIVERIES]
        self._session = uow.session

    async def add(self, delivery: Delivery) -> None:
        await self._items.insert_one(delivery.to_document(), session=self._session)

    async def delete_about(self, person: str, case_ids: list[str]) -> int:
        """Erasure: every delivery about the person or one of their cases, sent or not."""
        result = await self._items.delete_many(
            {"$or": [{"person": person}, {"case_id": {"$in": case_ids}}]}, session=self._session
        )
        return result.deleted_count

    async def get(self, delivery_id: uuid.UUID) -> Delivery | None:
        doc = await self._items.find_one({"_id": str(delivery_id)}, session=self._session)
        return Delivery.from_document(doc) if doc else None

    async def record(
        self, delivery: Delivery, claim: str, attempt: Attempt, decision: Decision, now: datetime
    ) -> bool:
        """Record an attempt and its outcome; False when the claim was lost meanwhile."""
        changes: dict[str, Any] = {
            "status": decision.status.value,
            "tries": delivery.tries + 1,
            "claim": None,
        }
        if decision.next_attempt_at is not None:
            changes["next_attempt_at"] = decision.next_attempt_at
        if decision.status is DeliveryStatus.SENT:
            changes["sent_at"] = now
        result = await self._items.update_one(
            {"_id": str(delivery.id), "claim": claim},
            {"$set": changes, "$push": {"attempts": attempt.to_document()}},
            session=self._session,
        )
        return result.modified_count == 1

    async def cancel(self, delivery: Delivery, claim: str) -> bool:
        result = await self._items.update_one(
            {"_id": str(delivery.id), "claim": claim},
            {"$set": {"status": DeliveryStatus.CANCELLED.value, "claim": None}},
            session=self._session,
        )
        return result.modified_count == 1

    async def retry_dead(self, delivery_id: uuid.UUID, now: datetime) -> bool:
        """An admin sends a dead delivery again: attempts start over (the old ones stay)."""
        result = await self._items.update_one(
            {"_id": str(delivery_id), "status": DeliveryStatus.DEAD.value},
            {
                "$set": {
                    "status": DeliveryStatus.PENDING.value,
                    "next_attempt_at": now,
                    "tries": 0,
                },
                "$push": {"resets": now},
            },
            session=self._session,
        )
        return result.modified_count == 1

    async def page(self, query: dict[str, Any], *, limit: int, skip: int) -> list[Delivery]:
        cursor = self._items.find(query, session=self._session).sort(
            [("created_at", -1), ("_id", -1)]
        )
        return [Delivery.from_document(d) for d in await cursor.skip(skip).limit(limit).to_list()]


class DeliveryQueue:
    """Claims for the delivery worker: atomic single-document updates, no transaction."""

    def __init__(self, db: Any) -> None:
        self._items = db[DELIVERIES]

    async def claim_due(
        self, now: datetime, lease: timedelta, limit: int
    ) -> list[tuple[Delivery, str]]:
        """Claim up to ``limit`` due deliveries, oldest first.

        The claim moves ``next_attempt_at`` to the end of the lease: a worker that
        dies with a claim lets it fall due again by itself. Each claim is one atomic
        update on a candidate that is still due, so two workers never share one.
        """
        due = {"status": DeliveryStatus.PENDING.value, "next_attempt_at": {"$lte": now}}
        candidates = (
            await self._items.find(due, {"_id": 1})
            .sort([("next_attempt_at", 1), ("_id", 1)])
            .limit(limit)
            .to_list()
        )
        lease_until = _milliseconds(now + lease)
        claimed = []
        for candidate in candidates:
            claim = uuid.uuid4().hex
            doc = await self._items.find_one_and_update(
                {"_id": candidate["_id"], **due},
                {"$set": {"claim": claim, "next_attempt_at": lease_until}},
                return_document=True,
            )
            if doc is not None:  # None: another worker was quicker
                claimed.append((Delivery.from_document(doc), claim))
        return claimed

    async def still_claimed(self, delivery_id: uuid.UUID, claim: str) -> bool:
        """Whether this claim is still the delivery's (a slow worker's lease may have run out)."""
        found = await self._items.find_one({"_id": str(delivery_id), "claim": claim}, {"_id": 1})
        return found is not None

    async def pending(self) -> dict[str, int]:
        pipeline = [
            {"$match": {"status": DeliveryStatus.PENDING.value}},
            {"$group": {"_id": "$channel", "n": {"$sum": 1}}},
            {"$sort": {"_id": 1}},
        ]
        cursor = await self._items.aggregate(pipeline)
        return {row["_id"]: row["n"] for row in await cursor.to_list()}


def _milliseconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
