"""Events of the notifications service."""

from __future__ import annotations

from buurtsignaal_contracts import CloudEvent
from buurtsignaal_contracts.events import MayorLetterSent, NotificationSent
from reporting_service.handlers.placing import Placing
from reporting_service.store import NO_DIMENSIONS, Dimensions, Projection
from servicekit.messaging import EventRouter
from servicekit.mongo import UnitOfWork

notifications = EventRouter()


@notifications.handles(MayorLetterSent)
async def count_letter_delivered(
    event: CloudEvent[MayorLetterSent], uow: UnitOfWork, placing: Placing
) -> None:
    letter = event.data
    projection = Projection(uow)
    case = await projection.case(str(letter.case_id))
    await projection.count(
        str(event.id),
        "letters_delivered",
        letter.delivered_on,
        Dimensions(letter.district, letter.programme.value, case.source, letter.team),
        code=letter.method.value,
    )


@notifications.handles(NotificationSent)
async def count_notification(
    event: CloudEvent[NotificationSent], uow: UnitOfWork, placing: Placing
) -> None:
    """Told to whom is not a district, programme or team: counted by channel only."""
    sent = event.data
    await Projection(uow).count(
        str(event.id),
        "notifications",
        placing.day(sent.sent_at),
        NO_DIMENSIONS,
        code=sent.channel.value,
    )
