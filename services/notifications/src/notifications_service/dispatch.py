"""Turning notices into inbox items and deliveries, inside the handler's unit of work.

Nothing leaves the service here: in-app items are stored (and announced with
``notification-sent``), e-mails and webhooks are written as deliveries under a
unique key. The delivery worker sends them after the commit. So a redelivered
event - which the inbox stops before it gets here - can never send twice, and
a handler that fails and is retried has sent nothing yet.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from buurtsignaal_contracts import CloudEvent, EventData
from buurtsignaal_contracts.codes import NotificationChannel, RecipientKind
from buurtsignaal_contracts.events import NotificationSent
from notifications_service.crypto import Vault
from notifications_service.domain.routing import Notice, Recipient
from notifications_service.domain.webhooks import Publication, publication_for, subscription_hears
from notifications_service.messages import Messages, Rendered
from notifications_service.metrics import NotificationMetrics
from notifications_service.store.deliveries import Delivery, DeliveryStore, Email, Webhook
from notifications_service.store.notifications import Notification, NotificationStore
from notifications_service.store.subscriptions import Subscription, SubscriptionStore
from servicekit.mongo import UnitOfWork

SECRET_PURPOSE = "webhook-secret"


def _case_of(data: EventData) -> str | None:
    case_id = getattr(data, "case_id", None)
    return str(case_id) if case_id is not None else None


@dataclass(frozen=True)
class Cause:
    """The event that makes somebody hear something."""

    event_id: uuid.UUID
    event_type: str
    correlation_id: str | None
    person: str | None = None  # the pseudonym the event names, kept only to find it on erasure

    @classmethod
    def of(cls, event: CloudEvent[Any]) -> Cause:
        person = getattr(event.data, "person", None)
        return cls(event.id, event.type, event.correlationid, person)


class Dispatcher:
    def __init__(
        self,
        messages: Messages,
        vault: Vault,
        metrics: NotificationMetrics,
        *,
        email_enabled: bool,
    ) -> None:
        self._messages = messages
        self._vault = vault
        self._metrics = metrics
        self._email_enabled = email_enabled

    async def tell(self, uow: UnitOfWork, cause: Cause, notices: list[Notice]) -> None:
        """In-app items for every recipient; e-mail deliveries for those with an address."""
        for notice in notices:
            rendered = self._messages.render(notice)
            for recipient in notice.recipients:
                if recipient.in_app:
                    await self._in_app(uow, cause, notice, rendered, recipient)
                if recipient.email and self._email_enabled:
                    email = Email(recipient.email, rendered.title, rendered.text, rendered.html)
                    delivery = self._delivery(
                        cause,
                        notice.topic.value,
                        NotificationChannel.EMAIL,
                        recipient.kind,
                        recipient.ref,
                        uow.clock.now(),
                        email=email,
                        case_id=notice.case_id,
                    )
                    await DeliveryStore(uow).add(delivery)

    async def _in_app(
        self,
        uow: UnitOfWork,
        cause: Cause,
        notice: Notice,
        rendered: Rendered,
        recipient: Recipient,
    ) -> None:
        now = uow.clock.now()
        item = Notification(
            id=uuid.uuid4(),
            recipient_kind=recipient.kind,
            recipient=recipient.ref,
            topic=notice.topic.value,
            title=rendered.title,
            message=rendered.message,
            link=notice.link,
            case_id=notice.case_id,
            cause_event_id=str(cause.event_id),
            created_at=now,
            contacts=[vars(c) for c in recipient.contacts],
            person=cause.person,
        )
        await NotificationStore(uow).add(item)
        channel = NotificationChannel.IN_APP
        uow.emit(notification_sent(item.id, channel, recipient.kind, recipient.ref, cause, now))
        # Counted in the transaction: a transaction run again after a conflict counts twice.
        self._metrics.sent.labels(channel.value).inc()

    async def publish_to_partners(self, uow: UnitOfWork, cause: Cause, data: EventData) -> int:
        """A webhook delivery for every active subscription that hears this event."""
        publication = publication_for(data)
        if publication is None:
            return 0
        now = uow.clock.now()
        deliveries = DeliveryStore(uow)
        count = 0
        for subscription in await SubscriptionStore(uow).active():
            if not subscription_hears(subscription.partner, subscription.channels, publication):
                continue
            delivery_id = uuid.uuid4()
            body = self.webhook_body(publication, subscription, cause, delivery_id, now)
            webhook = Webhook(str(subscription.id), body)
            await deliveries.add(
                self._delivery(
                    cause,
                    publication.event_type,
                    NotificationChannel.WEBHOOK,
                    RecipientKind.PARTNER,
                    subscription.partner,
                    now,
                    webhook=webhook,
                    delivery_id=delivery_id,
                    key_suffix=str(subscription.id),
                    case_id=_case_of(data),
                )
            )
            count += 1
        return count

    def webhook_body(
        self,
        publication: Publication,
        subscription: Subscription,
        cause: Cause,
        delivery_id: uuid.UUID,
        now: datetime,
    ) -> dict[str, Any]:
        """Informatie-arm, like a notification of the Notificaties API: codes and a link."""
        return {
            "id": str(delivery_id),
            "channel": publication.channel.value,
            "event_type": publication.event_type,
            "event_id": str(cause.event_id),
            "resource": publication.resource,
            "resource_id": publication.resource_id,
            "resource_url": self._messages.url(publication.link),
            "created_at": now.isoformat(),
            "attributes": publication.attributes_for(subscription.partner),
            "subscription_id": str(subscription.id),
        }

    @staticmethod
    def _delivery(
        cause: Cause,
        topic: str,
        channel: NotificationChannel,
        kind: RecipientKind,
        ref: str,
        now: datetime,
        *,
        email: Email | None = None,
        webhook: Webhook | None = None,
        delivery_id: uuid.UUID | None = None,
        key_suffix: str | None = None,
        case_id: str | None = None,
    ) -> Delivery:
        key = Delivery.key_of(str(cause.event_id), topic, channel, kind, ref)
        return Delivery(
            id=delivery_id or uuid.uuid4(),
            key=f"{key}:{key_suffix}" if key_suffix else key,
            channel=channel,
            recipient_kind=kind,
            recipient=ref,
            topic=topic,
            cause_event_id=str(cause.event_id),
            cause_event_type=cause.event_type,
            correlation_id=cause.correlation_id,
            created_at=now,
            next_attempt_at=now,
            email=email,
            webhook=webhook,
            case_id=case_id,
            person=cause.person,
        )

    # --- webhook secrets -----------------------------------------------------------------

    def seal_secret(self, subscription_id: uuid.UUID, secret: str) -> bytes:
        return self._vault.seal(SECRET_PURPOSE, str(subscription_id), secret.encode())

    def open_secret(self, subscription: Subscription) -> str:
        return self._vault.open(
            SECRET_PURPOSE, str(subscription.id), subscription.sealed_secret
        ).decode()


def new_secret() -> str:
    """A signing secret in the Standard Webhooks form: whsec_ + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def notification_sent(
    notification_id: uuid.UUID,
    channel: NotificationChannel,
    kind: RecipientKind,
    ref: str,
    cause: Cause,
    at: datetime,
) -> NotificationSent:
    return NotificationSent(
        notification_id=notification_id,
        channel=channel,
        recipient_kind=kind,
        recipient=ref,
        cause_event_id=cause.event_id,
        cause_event_type=cause.event_type,
        sent_at=at,
    )
