"""Events published by the notifications service."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import AwareDatetime, Field

from buurtsignaal_contracts.codes import (
    Code,
    EventTypeName,
    LetterDeliveryMethod,
    LetterHandedTo,
    NotificationChannel,
    Programme,
    RecipientKind,
    RecipientRef,
    UserRef,
)
from buurtsignaal_contracts.envelope import EventData, event


@event("notifications", "mayor-letter-sent", 1, subject="letter_id")
class MayorLetterSent(EventData):
    """The mayor's letter was delivered; the answer deadline starts now."""

    letter_id: uuid.UUID
    case_id: uuid.UUID
    team: Code
    programme: Programme
    district: Code
    method: LetterDeliveryMethod
    handed_to: LetterHandedTo
    delivered_on: date
    recorded_by: UserRef
    recorded_at: AwareDatetime


@event("notifications", "notification-sent", 1, subject="notification_id")
class NotificationSent(EventData):
    """Somebody was told something, through one channel; never what about."""

    notification_id: uuid.UUID
    channel: NotificationChannel
    recipient_kind: RecipientKind
    recipient: RecipientRef = Field(description="Account id, team code or partner code.")
    cause_event_id: uuid.UUID
    cause_event_type: EventTypeName
    sent_at: AwareDatetime
