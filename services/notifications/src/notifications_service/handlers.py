"""Event handlers of the notifications service: who must hear of what."""

from __future__ import annotations

import uuid

from buurtsignaal_contracts import CloudEvent
from buurtsignaal_contracts.codes import NotificationChannel, RecipientKind
from buurtsignaal_contracts.events import CaseOpened, NotificationSent
from notifications_service.messages import case_link, case_opened_title
from notifications_service.store import Notification, NotificationStore
from servicekit.messaging import EventRouter
from servicekit.mongo import UnitOfWork

cases = EventRouter()


@cases.handles(CaseOpened)
async def tell_team_of_new_case(event: CloudEvent[CaseOpened], uow: UnitOfWork) -> None:
    """A new case lands in the in-app inbox of the team that owns it."""
    case = event.data
    notification = Notification(
        id=uuid.uuid4(),
        recipient_kind=RecipientKind.TEAM,
        recipient=case.team,
        topic="case-opened",
        title=case_opened_title(case.programme, case.district),
        link=case_link(str(case.case_id)),
        case_id=str(case.case_id),
        cause_event_id=str(event.id),
        created_at=uow.clock.now(),
    )
    await NotificationStore(uow).add(notification)
    uow.emit(
        NotificationSent(
            notification_id=notification.id,
            channel=NotificationChannel.IN_APP,
            recipient_kind=RecipientKind.TEAM,
            recipient=case.team,
            cause_event_id=event.id,
            cause_event_type=event.type,
            sent_at=notification.created_at,
        )
    )
