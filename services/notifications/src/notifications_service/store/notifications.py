"""The in-app inbox: one item per recipient (a user or a whole team).

``read_by`` lists who has read a team item; a user item is read by its user.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from buurtsignaal_contracts.codes import RecipientKind
from servicekit.mongo import IndexSpec, UnitOfWork

NOTIFICATIONS = "notifications"

INDEXES = [
    IndexSpec(NOTIFICATIONS, [("recipient_kind", 1), ("recipient", 1), ("created_at", -1)]),
    IndexSpec(
        NOTIFICATIONS,
        [("cause_event_id", 1), ("topic", 1), ("recipient_kind", 1), ("recipient", 1)],
        unique=True,
        name="once_per_event_topic_recipient",
    ),
]


@dataclass
class Notification:
    id: uuid.UUID
    recipient_kind: RecipientKind
    recipient: str
    topic: str
    title: str
    message: str
    link: str
    case_id: str | None
    cause_event_id: str
    created_at: datetime
    contacts: list[dict[str, str | None]] = field(default_factory=list)
    read_by: list[str] = field(default_factory=list)
    person: str | None = None  # the pseudonym when the cause named one: for erasure only

    def to_document(self) -> dict[str, Any]:
        doc = {**vars(self), "_id": str(self.id), "recipient_kind": self.recipient_kind.value}
        del doc["id"]
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Notification:
        fields = {k: v for k, v in doc.items() if k != "_id"}
        fields["recipient_kind"] = RecipientKind(fields["recipient_kind"])
        return cls(id=uuid.UUID(doc["_id"]), **fields)

    def visible_to(self, user: str, teams: frozenset[str]) -> bool:
        if self.recipient_kind is RecipientKind.USER:
            return self.recipient == user
        return self.recipient_kind is RecipientKind.TEAM and self.recipient in teams


def visible_to(user: str, teams: frozenset[str]) -> dict[str, Any]:
    """The query for what one person sees: their own items and their teams'."""
    return {
        "$or": [
            {"recipient_kind": "user", "recipient": user},
            {"recipient_kind": "team", "recipient": {"$in": sorted(teams)}},
        ]
    }


class NotificationStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._items = uow.db[NOTIFICATIONS]
        self._session = uow.session

    async def add(self, notification: Notification) -> None:
        await self._items.insert_one(notification.to_document(), session=self._session)

    async def inbox(
        self, user: str, teams: frozenset[str], *, unread_only: bool, limit: int, skip: int
    ) -> list[Notification]:
        query = visible_to(user, teams)
        if unread_only:
            query["read_by"] = {"$ne": user}
        cursor = self._items.find(query, session=self._session).sort(
            [("created_at", -1), ("_id", -1)]
        )
        return [
            Notification.from_document(d) for d in await cursor.skip(skip).limit(limit).to_list()
        ]

    async def unread_count(self, user: str, teams: frozenset[str]) -> int:
        query = {**visible_to(user, teams), "read_by": {"$ne": user}}
        return await self._items.count_documents(query, session=self._session)

    async def newer_than(
        self, user: str, teams: frozenset[str], item: Notification, limit: int
    ) -> list[Notification]:
        """What a reconnecting live stream missed since ``item``, oldest first."""
        later = {
            "$or": [
                {"created_at": {"$gt": item.created_at}},
                {"created_at": item.created_at, "_id": {"$gt": str(item.id)}},
            ]
        }
        query = {"$and": [visible_to(user, teams), later]}
        cursor = self._items.find(query, session=self._session).sort(
            [("created_at", 1), ("_id", 1)]
        )
        return [Notification.from_document(d) for d in await cursor.limit(limit).to_list()]

    async def get(self, notification_id: uuid.UUID) -> Notification | None:
        doc = await self._items.find_one({"_id": str(notification_id)}, session=self._session)
        return Notification.from_document(doc) if doc else None

    async def mark_read(self, notification_id: uuid.UUID, user: str) -> None:
        await self._items.update_one(
            {"_id": str(notification_id)}, {"$addToSet": {"read_by": user}}, session=self._session
        )

    async def mark_all_read(self, user: str, teams: frozenset[str]) -> int:
        query = {**visible_to(user, teams), "read_by": {"$ne": user}}
        result = await self._items.update_many(
            query, {"$addToSet": {"read_by": user}}, session=self._session
        )
        return result.modified_count

    async def delete_about(self, person: str, case_ids: list[str]) -> int:
        """Erasure: every item about the person or one of their cases."""
        result = await self._items.delete_many(
            {"$or": [{"person": person}, {"case_id": {"$in": case_ids}}]}, session=self._session
        )
        return result.deleted_count
