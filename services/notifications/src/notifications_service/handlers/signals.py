"""Events of the signals service: matches, and erasure of a person's data."""

from __future__ import annotations

import logging

from buurtsignaal_contracts import CloudEvent
from buurtsignaal_contracts.events import SignalMatched, SubjectErased
from notifications_service.dispatch import Cause, Dispatcher
from notifications_service.domain import routing
from notifications_service.letters.desk import LetterDesk
from notifications_service.staff import Staff
from notifications_service.store.assignments import AssignmentStore
from notifications_service.store.deliveries import DeliveryStore
from notifications_service.store.notifications import NotificationStore
from notifications_service.store.persons import CasePersons
from servicekit.erasure import forget_mentions
from servicekit.messaging import EventRouter
from servicekit.mongo import UnitOfWork

log = logging.getLogger(__name__)

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
async def erase_person(event: CloudEvent[SubjectErased], uow: UnitOfWork, desk: LetterDesk) -> None:
    """AVG art. 17: the person's letters and the key of their PDFs, every inbox item and
    delivery about them or their cases, what this service learned about their cases, and
    the published events and stored responses that name them."""
    person = event.data.person
    letters = await desk.erase_person(uow, person)
    case_ids = sorted({*(x.case_id for x in letters), *await CasePersons(uow).cases_of(person)})
    items = await NotificationStore(uow).delete_about(person, case_ids)
    deliveries = await DeliveryStore(uow).delete_about(person, case_ids)
    await AssignmentStore(uow).forget(case_ids)
    await CasePersons(uow).forget(person)
    await forget_mentions(uow, person, *case_ids, *(str(x.id) for x in letters))
    log.info(
        "person erased",
        extra={"erasure_id": str(event.data.erasure_id), "items": items, "deliveries": deliveries},
    )
