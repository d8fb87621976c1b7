"""The in-app inbox and its live stream (Server-Sent Events)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

import anyio
import jwt
from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel
from sse_starlette import EventSourceResponse, ServerSentEvent

from notifications_service.channels.live import Listener, LiveFeed
from notifications_service.processing import CASE_NOTIFICATIONS
from notifications_service.settings import NotificationsSettings
from notifications_service.store.notifications import Notification, NotificationStore
from notifications_service.store.persons import CasePersons
from servicekit.app import provide
from servicekit.audit import Action, AuditLog, AuditUser
from servicekit.auth import Principal
from servicekit.http.paging import Limit, Offset
from servicekit.http.problems import not_found
from servicekit.http.security import CurrentPrincipal
from servicekit.mongo import Transactions, UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["inbox"])

Tx = Annotated[Transactions, provide(Transactions)]
Feed = Annotated[LiveFeed, provide(LiveFeed)]
Settings = Annotated[NotificationsSettings, provide(NotificationsSettings)]

REPLAY_LIMIT = 100  # what a reconnecting stream gets from the database at most
RECONNECT_MS = 3000


class Contact(BaseModel):
    """Somebody else involved in a match: whom to call, never what about."""

    organisation: str
    account: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class InboxItem(BaseModel):
    id: uuid.UUID
    topic: str
    title: str
    message: str
    link: str
    case_id: str | None
    created_at: datetime
    read: bool
    contacts: list[Contact] = []

    @classmethod
    def of(cls, item: Notification, user: str) -> InboxItem:
        return cls(
            id=item.id,
            topic=item.topic,
            title=item.title,
            message=item.message,
            link=item.link,
            case_id=item.case_id,
            created_at=item.created_at,
            read=user in item.read_by,
            contacts=[Contact(**c) for c in item.contacts],
        )


class Inbox(BaseModel):
    items: list[InboxItem]
    unread: int
    offset: int
    limit: int


@router.get("/inbox", response_model=Inbox, summary="Your notifications and your teams'")
async def inbox(
    principal: CurrentPrincipal,
    transactions: Tx,
    unread: bool = False,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Inbox:
    async def read(uow: UnitOfWork) -> tuple[list[Notification], int]:
        store = NotificationStore(uow)
        items = await store.inbox(
            principal.sub, principal.teams, unread_only=unread, limit=limit, skip=offset
        )
        await audit_case_items(uow, principal, items)
        return items, await store.unread_count(principal.sub, principal.teams)

    items, unread_count = await transactions.run(read)
    return Inbox(
        items=[InboxItem.of(i, principal.sub) for i in items],
        unread=unread_count,
        offset=offset,
        limit=limit,
    )


async def audit_case_items(
    uow: UnitOfWork, principal: Principal, items: list[Notification]
) -> None:
    """Items about a case are a look at that case's person: one audit record each."""
    persons = await CasePersons(uow).persons_of({i.case_id for i in items if i.case_id})
    await AuditLog(uow).record_many(
        AuditUser.of(principal),
        Action.READ,
        CASE_NOTIFICATIONS,
        [(persons[i.case_id], f"notification:{i.id}") for i in items if i.case_id in persons],
    )


@router.post("/inbox/{notification_id}/read", status_code=204, summary="Mark as read")
async def mark_read(
    notification_id: uuid.UUID, principal: CurrentPrincipal, transactions: Tx
) -> Response:
    async def mark(uow: UnitOfWork) -> None:
        store = NotificationStore(uow)
        item = await store.get(notification_id)
        if item is None or not item.visible_to(principal.sub, principal.teams):
            raise not_found("notification")
        await store.mark_read(notification_id, principal.sub)

    await transactions.run(mark)
    return Response(status_code=204)


class MarkedRead(BaseModel):
    marked: int


@router.post("/inbox/read", response_model=MarkedRead, summary="Mark everything as read")
async def mark_all_read(principal: CurrentPrincipal, transactions: Tx) -> MarkedRead:
    async def mark(uow: UnitOfWork) -> int:
        return await NotificationStore(uow).mark_all_read(principal.sub, principal.teams)

    return MarkedRead(marked=await transactions.run(mark))


@router.get(
    "/inbox/stream",
    summary="Live stream of new notifications (Server-Sent Events)",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request,
    principal: CurrentPrincipal,
    transactions: Tx,
    feed: Feed,
    settings: Settings,
    last_event_id: Annotated[uuid.UUID | None, Header(alias="Last-Event-ID")] = None,
) -> EventSourceResponse:
    """``event: notification`` with an inbox item as data, its id as the event id.

    The stream starts with ``event: ready`` (from then on nothing is missed). A
    reconnecting client sends ``Last-Event-ID`` and first gets what it missed
    (at most 100 items). It ends with ``event: shutdown`` when the service
    stops (reconnect: another replica answers) and with ``event:
    token-expired`` when the bearer token expires (reconnect with a fresh one).
    Comments keep idle connections open.
    """
    expires_in = _seconds_left(request)
    with anyio.move_on_after(5):
        await feed.watching.wait()
    shutdown = anyio.Event()

    async def backlog(uow: UnitOfWork) -> list[Notification]:
        store = NotificationStore(uow)
        last = await store.get(last_event_id) if last_event_id else None
        if last is None or not last.visible_to(principal.sub, principal.teams):
            return []
        missed = await store.newer_than(principal.sub, principal.teams, last, REPLAY_LIMIT)
        await audit_case_items(uow, principal, missed)
        return missed

    async def events() -> AsyncIterator[ServerSentEvent]:
        # Subscribe before reading the backlog: nothing falls between the two.
        listener = feed.subscribe(principal.sub, principal.teams)
        try:
            sent: set[uuid.UUID] = set()
            yield ServerSentEvent(event="ready", data="{}", retry=RECONNECT_MS)
            for item in await transactions.run(backlog):
                sent.add(item.id)
                yield _event(item, principal.sub)
            deadline = anyio.current_time() + expires_in
            while True:
                item = await _next(listener, shutdown, deadline - anyio.current_time())
                if item is _SHUTDOWN or item is None:
                    yield ServerSentEvent(event="shutdown", data="{}", retry=RECONNECT_MS)
                    return
                if item is _EXPIRED:
                    yield ServerSentEvent(event="token-expired", data="{}", retry=RECONNECT_MS)
                    return
                assert isinstance(item, Notification)
                if item.id not in sent:
                    yield _event(item, principal.sub)
        finally:
            listener.close()

    return EventSourceResponse(
        events(),
        ping=settings.live_ping_seconds,
        send_timeout=30,
        shutdown_event=shutdown,
        shutdown_grace_period=2,
    )


def _event(item: Notification, user: str) -> ServerSentEvent:
    return ServerSentEvent(
        event="notification", id=str(item.id), data=InboxItem.of(item, user).model_dump_json()
    )


def _seconds_left(request: Request) -> float:
    """How long the caller's (already verified) token is valid: the stream ends then."""
    token = request.headers.get("authorization", "").partition(" ")[2]
    claims = jwt.decode(token, options={"verify_signature": False})
    return max(0.0, float(claims["exp"]) - time.time())


_SHUTDOWN, _EXPIRED = object(), object()


async def _next(listener: Listener, shutdown: anyio.Event, timeout: float) -> object | None:
    """The next item; or _SHUTDOWN, _EXPIRED, or None when the feed ends the stream."""
    get = asyncio.ensure_future(listener.next())
    stop = asyncio.ensure_future(shutdown.wait())
    try:
        done, _ = await asyncio.wait(
            {get, stop}, timeout=max(timeout, 0), return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for task in (get, stop):
            task.cancel()
    if get in done:
        return get.result()
    return _SHUTDOWN if stop in done else _EXPIRED
