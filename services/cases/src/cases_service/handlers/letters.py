"""What the notifications service tells the cases service about the mayor's letter."""

from __future__ import annotations

from buurtsignaal_contracts import CloudEvent
from buurtsignaal_contracts.events import MayorLetterSent
from cases_service.service import CaseService
from servicekit.messaging import EventRouter
from servicekit.mongo import UnitOfWork

letters = EventRouter()


@letters.handles(MayorLetterSent)
async def record_letter_delivery(
    event: CloudEvent[MayorLetterSent], uow: UnitOfWork, cases: CaseService
) -> None:
    """The letter was delivered: the case records it and the answer deadline starts.

    A letter the case does not know is dead-lettered for an operator to look at.
    """
    await cases.letter_delivered(uow, event.data)
