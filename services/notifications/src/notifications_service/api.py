"""HTTP API of the notifications service: the in-app inbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from notifications_service.store import Notification, NotificationStore
from servicekit.app import provide
from servicekit.http.problems import not_found
from servicekit.http.security import CurrentPrincipal
from servicekit.mongo import Transactions, UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["inbox"])

Tx = Annotated[Transactions, provide(Transactions)]


class InboxItem(BaseModel):
    id: uuid.UUID
    topic: str
    title: str
    link: str
    case_id: str | None
    created_at: datetime
    read: bool

    @classmethod
    def of(cls, item: Notification, user: str) -> InboxItem:
        return cls(
            id=item.id,
            topic=item.topic,
            title=item.title,
            link=item.link,
            case_id=item.case_id,
            created_at=item.created_at,
            read=user in item.read_by,
        )


class Inbox(BaseModel):
    items: list[InboxItem]
    offset: int
    limit: int


@router.get("/inbox", response_model=Inbox, summary="Your notifications and your teams'")
async def inbox(
    principal: CurrentPrincipal,
    transactions: Tx,
    unread: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Inbox:
    async def read(uow: UnitOfWork) -> list[Notification]:
        return await NotificationStore(uow).inbox(
            principal.sub, principal.teams, unread_only=unread, limit=limit, skip=offset
        )

    items = await transactions.run(read)
    return Inbox(items=[InboxItem.of(i, principal.sub) for i in items], offset=offset, limit=limit)


@router.post("/inbox/{notification_id}/read", status_code=204, summary="Mark as read")
async def mark_read(
    notification_id: uuid.UUID, principal: CurrentPrincipal, transactions: Tx
) -> Response:
    async def mark(uow: UnitOfWork) -> None:
        store = NotificationStore(uow)
        item = await store.get(notification_id)
        visible = item is not None and (
            (item.recipient_kind == "user" and item.recipient == principal.sub)
            or (item.recipient_kind == "team" and item.recipient in principal.teams)
        )
        if not visible:
            raise not_found("notification")
        await store.mark_read(notification_id, principal.sub)

    await transactions.run(mark)
    return Response(status_code=204)
