"""Events of the signals service: matches, and erasure of a person's data."""

from __future__ import annotations

from buurtsignaal_contracts import CloudEvent
from buurtsignaal_contracts.events import SignalMatched, SubjectErased
from notifications_service.dispatch import Cause, Dispatcher
from notifications_service.domain import routing
from notifications_service.letters.desk import LetterDesk
from notifications_service.staff import Staff
from notifications_service.store.case_persons import CasePersonStore
from servicekit.messaging import EventRouter
from servicekit.mongo import UnitOfWork

signals = EventRouter()


@signals.handles(SignalMatched)
async def tell_everyone_involved_in_a_match(
    event: CloudEvent[SignalMatched], uow: UnitOfWork, dispatcher: Dispatcher, staff: Staff
) -> None:
    """Every professional involved and the match coordinator hear who else is involved;
    the organisations involved hear it through their webhook subscriptions."""
    cause = Cause.of(event)
    await dispatcher.tell(uow, cause, routing.signal_matched(event.data, await staff.people(uow)))
    await dispatcher.publish_to_partners(uow, cause, event.data)


@signals.handles(SubjectErased)
async def erase_letters_of_person(
    event: CloudEvent[SubjectErased], uow: UnitOfWork, desk: LetterDesk
) -> None:
    """AVG art. 17: the person's letters lose their PDF and their pseudonym."""
    await desk.erase_person(uow, event.data.person)
    await CasePersonStore(uow).forget(event.data.person)
