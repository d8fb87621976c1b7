"""Webhook subscriptions of partner systems, and the deliveries (admins only).

A subscription is modelled on the Notificaties API's *abonnement*: a partner
organisation, a callback URL, and channels (*kanalen*) with the event types and
attribute filters (*kenmerken*) it wants. What each channel can carry and who
may hear it is in domain/webhooks.py.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from buurtsignaal_contracts.codes import NotificationChannel
from notifications_service.delivery_worker import DeliveryWorker
from notifications_service.dispatch import Dispatcher, new_secret
from notifications_service.domain.deliveries import DeliveryStatus
from notifications_service.domain.webhooks import (
    EVENT_TYPES,
    FILTERABLE,
    ChannelFilter,
    ChannelName,
)
from notifications_service.settings import NotificationsSettings
from notifications_service.store.deliveries import Delivery, DeliveryStore
from notifications_service.store.subscriptions import Subscription, SubscriptionStore
from servicekit.app import provide
from servicekit.http.idempotency import IdempotencyKey, create_once
from servicekit.http.paging import Limit, Offset
from servicekit.http.problems import conflict, invalid, not_found
from servicekit.http.security import CurrentPrincipal
from servicekit.mongo import Transactions, UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["webhooks"])

Admin = CurrentPrincipal  # admins only: access_matrix.py
Tx = Annotated[Transactions, provide(Transactions)]
Dispatch = Annotated[Dispatcher, provide(Dispatcher)]
Settings = Annotated[NotificationsSettings, provide(NotificationsSettings)]
Worker = Annotated[DeliveryWorker, provide(DeliveryWorker)]

CODE = r"^[a-z0-9][a-z0-9-]{0,62}$"


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ChannelName
    event_types: list[str] = Field(
        default_factory=list, description="Short event names; empty: every event of the channel"
    )
    filters: dict[str, str] = Field(
        default_factory=dict, description="Attribute = value; all must match"
    )

    @model_validator(mode="after")
    def _known(self) -> ChannelIn:
        unknown = sorted(set(self.event_types) - EVENT_TYPES[self.name])
        if unknown:
            raise ValueError(f"channel {self.name.value} carries no {', '.join(unknown)}")
        unknown = sorted(set(self.filters) - FILTERABLE[self.name])
        if unknown:
            raise ValueError(f"channel {self.name.value} cannot filter on {', '.join(unknown)}")
        for value in self.filters.values():
            if not (len(value) <= 63 and value.replace("-", "").isalnum() and value.islower()):
                raise ValueError("filter values are codes: lower case, digits and hyphens")
        return self

    def to_filter(self) -> ChannelFilter:
        return ChannelFilter(self.name, frozenset(self.event_types), dict(self.filters))


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner: str = Field(pattern=CODE, description="The partner organisation's code")
    callback_url: str = Field(max_length=2000)
    channels: list[ChannelIn] = Field(min_length=1, max_length=10)

    @field_validator("callback_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _checked_url(value)


class SubscriptionChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool | None = None
    callback_url: str | None = Field(None, max_length=2000)
    channels: list[ChannelIn] | None = Field(None, min_length=1, max_length=10)

    @field_validator("callback_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _checked_url(value) if value is not None else None


def _checked_url(value: str) -> str:
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        raise ValueError("not a URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("an http(s) URL with a host is needed")
    if url.userinfo:
        raise ValueError("no credentials in the URL: the signature authenticates us")
    return str(url)


class ChannelOut(BaseModel):
    name: ChannelName
    event_types: list[str]
    filters: dict[str, str]


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    partner: str
    callback_url: str
    channels: list[ChannelOut]
    active: bool
    created_at: datetime
    created_by: str
    updated_at: datetime | None
    secret_rotated_at: datetime | None

    @classmethod
    def of(cls, s: Subscription) -> SubscriptionOut:
        return cls(
            id=s.id,
            partner=s.partner,
            callback_url=s.callback_url,
            channels=[
                ChannelOut(name=c.name, event_types=sorted(c.event_types), filters=dict(c.filters))
                for c in s.channels
            ],
            active=s.active,
            created_at=s.created_at,
            created_by=s.created_by,
            updated_at=s.updated_at,
            secret_rotated_at=s.secret_rotated_at,
        )


class SubscriptionCreated(SubscriptionOut):
    secret: str | None = Field(
        description="The signing secret, shown once; null on an idempotent replay (rotate it)"
    )


class SubscriptionList(BaseModel):
    items: list[SubscriptionOut]


class Secret(BaseModel):
    secret: str


def _production_needs_https(settings: NotificationsSettings, url: str) -> None:
    if settings.environment == "production" and not url.startswith("https://"):
        raise invalid("callback_url", "must be https in production")


@router.post(
    "/webhook-subscriptions",
    status_code=201,
    response_model=SubscriptionCreated,
    summary="Subscribe a partner system (the signing secret is in this answer only)",
)
async def create_subscription(
    body: SubscriptionIn,
    principal: Admin,
    transactions: Tx,
    dispatcher: Dispatch,
    settings: Settings,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    _production_needs_https(settings, body.callback_url)
    secret = new_secret()

    async def create(uow: UnitOfWork) -> tuple[int, Any]:
        subscription_id = uuid.uuid4()
        subscription = Subscription(
            id=subscription_id,
            partner=body.partner,
            callback_url=body.callback_url,
            channels=[c.to_filter() for c in body.channels],
            sealed_secret=dispatcher.seal_secret(subscription_id, secret),
            active=True,
            created_at=uow.clock.now(),
            created_by=principal.sub,
        )
        await SubscriptionStore(uow).add(subscription)
        # The stored answer (for a replay) holds no secret.
        return 201, {**SubscriptionOut.of(subscription).model_dump(mode="json"), "secret": None}

    response = await create_once(
        transactions,
        key=idempotency_key,
        principal=principal,
        scope="webhook-subscriptions:create",
        payload=body.model_dump(mode="json"),
        create=create,
    )
    if response.status_code == 201 and "idempotent-replayed" not in response.headers:
        created = json.loads(bytes(response.body))
        created["secret"] = secret
        headers = {"Location": f"/api/v1/webhook-subscriptions/{created['id']}"}
        return Response(json.dumps(created), 201, headers, media_type="application/json")
    return response


@router.get("/webhook-subscriptions", response_model=SubscriptionList, summary="All subscriptions")
async def list_subscriptions(
    principal: Admin, transactions: Tx, partner: Annotated[str | None, Query(pattern=CODE)] = None
) -> SubscriptionList:
    async def read(uow: UnitOfWork) -> list[Subscription]:
        return await SubscriptionStore(uow).all(partner)

    return SubscriptionList(items=[SubscriptionOut.of(s) for s in await transactions.run(read)])


@router.get("/webhook-subscriptions/{subscription_id}", response_model=SubscriptionOut)
async def get_subscription(
    subscription_id: uuid.UUID, principal: Admin, transactions: Tx
) -> SubscriptionOut:
    async def read(uow: UnitOfWork) -> Subscription:
        found = await SubscriptionStore(uow).get(subscription_id)
        if found is None:
            raise not_found("subscription")
        return found

    return SubscriptionOut.of(await transactions.run(read))


@router.patch(
    "/webhook-subscriptions/{subscription_id}",
    response_model=SubscriptionOut,
    summary="Switch a subscription on or off, or change its URL or channels",
)
async def change_subscription(
    subscription_id: uuid.UUID,
    change: SubscriptionChange,
    principal: Admin,
    transactions: Tx,
    settings: Settings,
) -> SubscriptionOut:
    if change.callback_url is not None:
        _production_needs_https(settings, change.callback_url)

    async def update(uow: UnitOfWork) -> Subscription:
        store = SubscriptionStore(uow)
        found = await store.get(subscription_id)
        if found is None:
            raise not_found("subscription")
        if change.active is not None:
            found.active = change.active
        if change.callback_url is not None:
            found.callback_url = change.callback_url
        if change.channels is not None:
            found.channels = [c.to_filter() for c in change.channels]
        found.updated_at = uow.clock.now()
        await store.replace(found)
        return found

    return SubscriptionOut.of(await transactions.run(update))


@router.delete("/webhook-subscriptions/{subscription_id}", status_code=204)
async def delete_subscription(
    subscription_id: uuid.UUID, principal: Admin, transactions: Tx
) -> Response:
    """Pending deliveries of a deleted subscription are cancelled, not sent."""

    async def delete(uow: UnitOfWork) -> None:
        if not await SubscriptionStore(uow).delete(subscription_id):
            raise not_found("subscription")

    await transactions.run(delete)
    return Response(status_code=204)


@router.post(
    "/webhook-subscriptions/{subscription_id}/secret",
    response_model=Secret,
    summary="Rotate the signing secret (the new one is in this answer only)",
)
async def rotate_secret(
    subscription_id: uuid.UUID, principal: Admin, transactions: Tx, dispatcher: Dispatch
) -> Secret:
    secret = new_secret()

    async def rotate(uow: UnitOfWork) -> None:
        store = SubscriptionStore(uow)
        found = await store.get(subscription_id)
        if found is None:
            raise not_found("subscription")
        found.sealed_secret = dispatcher.seal_secret(found.id, secret)
        found.secret_rotated_at = uow.clock.now()
        await store.replace(found)

    await transactions.run(rotate)
    return Secret(secret=secret)


# --- deliveries -------------------------------------------------------------------------


class AttemptOut(BaseModel):
    number: int
    at: datetime
    outcome: str
    duration_ms: float
    error: str | None
    status_code: int | None


class DeliveryOut(BaseModel):
    """A delivery without its content: whom, which channel, how every attempt went."""

    id: uuid.UUID
    channel: NotificationChannel
    topic: str
    recipient_kind: str
    recipient: str
    status: DeliveryStatus
    cause_event_id: str
    cause_event_type: str
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    subscription_id: str | None
    attempts: list[AttemptOut]

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls(
            id=d.id,
            channel=d.channel,
            topic=d.topic,
            recipient_kind=d.recipient_kind.value,
            recipient=d.recipient,
            status=d.status,
            cause_event_id=d.cause_event_id,
            cause_event_type=d.cause_event_type,
            created_at=d.created_at,
            next_attempt_at=d.next_attempt_at if d.status is DeliveryStatus.PENDING else None,
            sent_at=d.sent_at,
            subscription_id=d.webhook.subscription_id if d.webhook else None,
            attempts=[AttemptOut(**{**vars(a), "outcome": a.outcome.value}) for a in d.attempts],
        )


class DeliveryList(BaseModel):
    items: list[DeliveryOut]
    offset: int
    limit: int


@router.get(
    "/deliveries", response_model=DeliveryList, summary="E-mails and webhooks, newest first"
)
async def list_deliveries(
    principal: Admin,
    transactions: Tx,
    status: DeliveryStatus | None = None,
    channel: NotificationChannel | None = None,
    subscription_id: uuid.UUID | None = None,
    cause_event_id: uuid.UUID | None = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> DeliveryList:
    query: dict[str, Any] = {}
    if status is not None:
        query["status"] = status.value
    if channel is not None:
        query["channel"] = channel.value
    if subscription_id is not None:
        query["webhook.subscription_id"] = str(subscription_id)
    if cause_event_id is not None:
        query["cause_event_id"] = str(cause_event_id)

    async def read(uow: UnitOfWork) -> list[Delivery]:
        return await DeliveryStore(uow).page(query, limit=limit, skip=offset)

    items = await transactions.run(read)
    return DeliveryList(items=[DeliveryOut.of(d) for d in items], offset=offset, limit=limit)


@router.get("/deliveries/{delivery_id}", response_model=DeliveryOut)
async def get_delivery(delivery_id: uuid.UUID, principal: Admin, transactions: Tx) -> DeliveryOut:
    async def read(uow: UnitOfWork) -> Delivery:
        found = await DeliveryStore(uow).get(delivery_id)
        if found is None:
            raise not_found("delivery")
        return found

    return DeliveryOut.of(await transactions.run(read))


@router.post(
    "/deliveries/{delivery_id}/retry",
    status_code=202,
    response_model=DeliveryOut,
    summary="Send a dead delivery again, once its cause is fixed",
)
async def retry_delivery(
    delivery_id: uuid.UUID, principal: Admin, transactions: Tx, worker: Worker
) -> DeliveryOut:
    async def retry(uow: UnitOfWork) -> Delivery:
        store = DeliveryStore(uow)
        found = await store.get(delivery_id)
        if found is None:
            raise not_found("delivery")
        if not await store.retry_dead(delivery_id, uow.clock.now()):
            raise conflict(f"only a dead delivery can be sent again; this one is {found.status}")
        updated = await store.get(delivery_id)
        assert updated is not None
        return updated

    delivery = await transactions.run(retry)
    worker.wake()
    return DeliveryOut.of(delivery)
