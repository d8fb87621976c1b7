"""Events of the cases service: who must hear of what (domain/routing.py), and partners.

Every handler runs in the inbox's transaction: what it stores, the deliveries
it writes and the events it emits commit together, once per event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from buurtsignaal_contracts import CloudEvent
from buurtsignaal_contracts.events import (
    CaseAssigned,
    CaseClosed,
    CaseOpened,
    DeadlineBreached,
    MayorLetterAnswered,
    MayorLetterRequested,
    ScreeningCompleted,
)
from notifications_service.dispatch import Cause, Dispatcher
from notifications_service.domain import routing
from notifications_service.domain.letters import LetterStatus
from notifications_service.processing import MAYOR_LETTER_STATUS
from notifications_service.staff import Staff
from notifications_service.store.assignments import AssignmentStore
from notifications_service.store.letters import Letter, LetterStore
from notifications_service.store.persons import CasePersons
from servicekit.audit import Action, AuditLog, AuditUser
from servicekit.messaging import EventRouter
from servicekit.mongo import UnitOfWork

cases = EventRouter()


@cases.handles(CaseOpened)
async def tell_team_of_new_case(
    event: CloudEvent[CaseOpened], uow: UnitOfWork, dispatcher: Dispatcher, staff: Staff
) -> None:
    """A new case: the team's inbox and mailbox."""
    await CasePersons(uow).learn(str(event.data.case_id), event.data.person, event.data.opened_at)
    people = await staff.people(uow)
    cause = Cause.of(event)
    await dispatcher.tell(uow, cause, routing.case_opened(event.data, people))
    await dispatcher.publish_to_partners(uow, cause, event.data)


@cases.handles(CaseAssigned)
async def tell_worker_of_assignment(
    event: CloudEvent[CaseAssigned], uow: UnitOfWork, dispatcher: Dispatcher, staff: Staff
) -> None:
    """The (new) worker hears of the case; the previous one that it was handed over."""
    case = event.data
    await AssignmentStore(uow).learn(str(case.case_id), case.team, case.worker, case.assigned_at)
    cause = Cause.of(event)
    await dispatcher.tell(uow, cause, routing.case_assigned(case, await staff.people(uow)))
    await dispatcher.publish_to_partners(uow, cause, case)


@cases.handles(DeadlineBreached)
async def tell_of_breached_deadline(
    event: CloudEvent[DeadlineBreached], uow: UnitOfWork, dispatcher: Dispatcher, staff: Staff
) -> None:
    """First the worker, at the next escalation the area manager."""
    await _tell_case_people(event, uow, dispatcher, staff, routing.deadline_breached)


@cases.handles(ScreeningCompleted)
async def tell_of_screening(
    event: CloudEvent[ScreeningCompleted], uow: UnitOfWork, dispatcher: Dispatcher, staff: Staff
) -> None:
    await _tell_case_people(event, uow, dispatcher, staff, routing.screening_completed)


@cases.handles(MayorLetterRequested)
async def prepare_mayor_letter(
    event: CloudEvent[MayorLetterRequested], uow: UnitOfWork, dispatcher: Dispatcher
) -> None:
    """Record the request; the letter renderer fetches names and address and renders it.

    Not here: a call to another service inside this transaction would hold it
    open, and a retried transaction would fetch (and be audit-logged) twice.
    """
    request = event.data
    letters = LetterStore(uow)
    if await letters.get(request.letter_id) is not None:
        return  # the same letter asked for in another event: one letter
    now = uow.clock.now()
    letter = Letter(
        id=request.letter_id,
        case_id=str(request.case_id),
        team=request.team,
        programme=request.programme,
        district=request.district,
        person=request.person,
        addressees=list(request.addressees),
        worker=request.worker,
        requested_at=request.requested_at,
        cause_event_id=str(event.id),
        cause_event_type=event.type,
        correlation_id=event.correlationid,
        status=LetterStatus.REQUESTED,
        next_attempt_at=now,
        history=[{"at": now, "status": LetterStatus.REQUESTED.value, "by": request.worker}],
    )
    await letters.add(letter)
    await AuditLog(uow).record(
        AuditUser.system(on_behalf_of=request.worker),
        Action.CREATE,
        MAYOR_LETTER_STATUS,
        request.person,
        f"letter:{letter.id}",
    )
    await dispatcher.publish_to_partners(uow, Cause.of(event), request)


@cases.handles(MayorLetterAnswered)
async def tell_of_letter_answer(
    event: CloudEvent[MayorLetterAnswered], uow: UnitOfWork, dispatcher: Dispatcher, staff: Staff
) -> None:
    await _tell_case_people(event, uow, dispatcher, staff, routing.mayor_letter_answered)


@cases.handles(CaseClosed)
async def tell_of_closed_case(
    event: CloudEvent[CaseClosed], uow: UnitOfWork, dispatcher: Dispatcher, staff: Staff
) -> None:
    await _tell_case_people(event, uow, dispatcher, staff, routing.case_closed)


async def _tell_case_people(
    event: CloudEvent[Any],
    uow: UnitOfWork,
    dispatcher: Dispatcher,
    staff: Staff,
    recipients: Callable[[Any, routing.People], list[routing.Notice]],
) -> None:
    """Those the routing names for a case event hear of it; subscribed partners get it."""
    people = await staff.people(uow, event.data.case_id)
    cause = Cause.of(event)
    await dispatcher.tell(uow, cause, recipients(event.data, people))
    await dispatcher.publish_to_partners(uow, cause, event.data)
