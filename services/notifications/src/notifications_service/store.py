"""MongoDB collection of the notifications service.

notifications   one in-app item per recipient (a user or a whole team); read_by
                lists who has read a team item.
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
    IndexSpec(NOTIFICATIONS, [("cause_event_id", 1), ("recipient", 1)], unique=True),
]


@dataclass
class Notification:
    id: uuid.UUID
    recipient_kind: RecipientKind
    recipient: str
    topic: str
    title: str
    link: str
    case_id: str | None
    cause_event_id: str
    created_at: datetime
    read_by: list[str] = field(default_factory=list)

    def to_document(self) -> dict[str, Any]:
        doc = {**vars(self), "_id": str(self.id), "recipient_kind": self.recipient_kind.value}
        del doc["id"]
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Notification:
        fields = {k: v for k, v in doc.items() if k != "_id"}
        fields["recipient_kind"] = RecipientKind(fields["recipient_kind"])
        return cls(id=uuid.UUID(doc["_id"]), **fields)


class NotificationStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._items = uow.db[NOTIFICATIONS]
        self._session = uow.session

    async def add(self, notification: Notification) -> None:
        await self._items.insert_one(notification.to_document(), session=self._session)

    async def inbox(
        self, user: str, teams: frozenset[str], *, unread_only: bool, limit: int, skip: int
    ) -> list[Notification]:
        query: dict[str, Any] = {
            "$or": [
                {"recipient_kind": "user", "recipient": user},
                {"recipient_kind": "team", "recipient": {"$in": sorted(teams)}},
            ]
        }
        if unread_only:
            query["read_by"] = {"$ne": user}
        cursor = self._items.find(query, session=self._session).sort(
            [("created_at", -1), ("_id", -1)]
        )
        return [
            Notification.from_document(d) for d in await cursor.skip(skip).limit(limit).to_list()
        ]

    async def get(self, notification_id: uuid.UUID) -> Notification | None:
        doc = await self._items.find_one({"_id": str(notification_id)}, session=self._session)
        return Notification.from_document(doc) if doc else None

    async def mark_read(self, notification_id: uuid.UUID, user: str) -> None:
        await self._items.update_one(
            {"_id": str(notification_id)}, {"$addToSet": {"read_by": user}}, session=self._session
        )
