"""Webhook subscriptions of partner systems, managed by admins through the API.

The signing secret is stored encrypted (it is shown once, when it is made).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notifications_service.domain.webhooks import ChannelFilter, ChannelName
from servicekit.mongo import IndexSpec, UnitOfWork

SUBSCRIPTIONS = "webhook_subscriptions"

INDEXES = [IndexSpec(SUBSCRIPTIONS, [("active", 1), ("partner", 1)])]


@dataclass
class Subscription:
    id: uuid.UUID
    partner: str
    callback_url: str
    channels: list[ChannelFilter]
    sealed_secret: bytes
    active: bool
    created_at: datetime
    created_by: str
    updated_at: datetime | None = None
    secret_rotated_at: datetime | None = None

    def to_document(self) -> dict[str, Any]:
        return {
            "_id": str(self.id),
            "partner": self.partner,
            "callback_url": self.callback_url,
            "channels": [
                {
                    "name": c.name.value,
                    "event_types": sorted(c.event_types),
                    "filters": dict(c.filters),
                }
                for c in self.channels
            ],
            "sealed_secret": self.sealed_secret,
            "active": self.active,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "updated_at": self.updated_at,
            "secret_rotated_at": self.secret_rotated_at,
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Subscription:
        return cls(
            id=uuid.UUID(doc["_id"]),
            partner=doc["partner"],
            callback_url=doc["callback_url"],
            channels=[
                ChannelFilter(
                    ChannelName(c["name"]), frozenset(c["event_types"]), dict(c["filters"])
                )
                for c in doc["channels"]
            ],
            sealed_secret=bytes(doc["sealed_secret"]),
            active=doc["active"],
            created_at=doc["created_at"],
            created_by=doc["created_by"],
            updated_at=doc.get("updated_at"),
            secret_rotated_at=doc.get("secret_rotated_at"),
        )


class SubscriptionStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._items = uow.db[SUBSCRIPTIONS]
        self._session = uow.session

    async def add(self, subscription: Subscription) -> None:
        await self._items.insert_one(subscription.to_document(), session=self._session)

    async def get(self, subscription_id: uuid.UUID | str) -> Subscription | None:
        doc = await self._items.find_one({"_id": str(subscription_id)}, session=self._session)
        return Subscription.from_document(doc) if doc else None

    async def active(self) -> list[Subscription]:
        cursor = self._items.find({"active": True}, session=self._session).sort("_id", 1)
        return [Subscription.from_document(d) for d in await cursor.to_list()]

    async def all(self, partner: str | None = None) -> list[Subscription]:
        query = {"partner": partner} if partner else {}
        cursor = self._items.find(query, session=self._session).sort("created_at", 1)
        return [Subscription.from_document(d) for d in await cursor.to_list()]

    async def replace(self, subscription: Subscription) -> None:
        await self._items.replace_one(
            {"_id": str(subscription.id)}, subscription.to_document(), session=self._session
        )

    async def delete(self, subscription_id: uuid.UUID) -> bool:
        result = await self._items.delete_one({"_id": str(subscription_id)}, session=self._session)
        return result.deleted_count == 1
