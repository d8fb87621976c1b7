"""Events of the cases service.

Every case event carries its team, programme and district; the source (of the
case's first signal), the person and when the first signal came are taken from
the case as ``case-opened`` told them.
"""

from __future__ import annotations

from datetime import date

from buurtsignaal_contracts import CloudEvent
from buurtsignaal_contracts.codes import Escalation
from buurtsignaal_contracts.events import (
    CaseAssigned,
    CaseClosed,
    CaseFacts,
    CaseOpened,
    CaseReopened,
    CaseStatusChanged,
    ContactRecorded,
    DeadlineBreached,
    MayorLetterAnswered,
    MayorLetterRequested,
    ScreeningCompleted,
)
from reporting_service.domain.measures import LEAD_TIME, Stage
from reporting_service.handlers.placing import Placing
from reporting_service.store import CaseRecord, Dimensions, Projection, utc
from servicekit.messaging import EventRouter
from servicekit.mongo import UnitOfWork

cases = EventRouter()


def _dimensions(facts: CaseFacts, source: str) -> Dimensions:
    return Dimensions(facts.district, facts.programme.value, source, facts.team)


def _lead_days(case: CaseRecord, placing: Placing, until: date) -> int:
    return max(0, (until - placing.day(case.first_signal_at)).days)


@cases.handles(CaseOpened)
async def count_case_opened(
    event: CloudEvent[CaseOpened], uow: UnitOfWork, placing: Placing
) -> None:
    opened = event.data
    projection = Projection(uow)
    await projection.remember_case(
        CaseRecord(
            str(opened.case_id), opened.person, opened.source_type.value, opened.first_signal_at
        )
    )
    dimensions = _dimensions(opened, opened.source_type.value)
    day = placing.day(opened.opened_at)
    await projection.count(str(event.id), "cases_opened", day, dimensions, person=opened.person)
    await projection.open_delta(str(event.id), day, dimensions, +1)


@cases.handles(CaseClosed)
async def count_case_closed(
    event: CloudEvent[CaseClosed], uow: UnitOfWork, placing: Placing
) -> None:
    closed = event.data
    projection = Projection(uow)
    case = await projection.case(str(closed.case_id))
    dimensions = _dimensions(closed, case.source)
    day = placing.day(closed.closed_at)
    await projection.count(
        str(event.id), "cases_closed", day, dimensions, code=closed.outcome.value
    )
    await projection.open_delta(str(event.id), day, dimensions, -1)
    await projection.count(
        str(event.id),
        LEAD_TIME[Stage.CLOSURE],
        day,
        dimensions,
        value=_lead_days(case, placing, day),
    )


@cases.handles(CaseReopened)
async def count_case_reopened(
    event: CloudEvent[CaseReopened], uow: UnitOfWork, placing: Placing
) -> None:
    reopened = event.data
    projection = Projection(uow)
    case = await projection.case(str(reopened.case_id))
    dimensions = _dimensions(reopened, case.source)
    day = placing.day(reopened.reopened_at)
    await projection.count(
        str(event.id), "cases_reopened", day, dimensions, code=reopened.reason.value
    )
    await projection.open_delta(str(event.id), day, dimensions, +1)


@cases.handles(CaseAssigned)
async def count_assignment(
    event: CloudEvent[CaseAssigned], uow: UnitOfWork, placing: Placing
) -> None:
    assigned = event.data
    projection = Projection(uow)
    case = await projection.case(str(assigned.case_id))
    await projection.count(
        str(event.id),
        "assignments",
        placing.day(assigned.assigned_at),
        _dimensions(assigned, case.source),
    )


@cases.handles(CaseStatusChanged)
async def count_status_change(
    event: CloudEvent[CaseStatusChanged], uow: UnitOfWork, placing: Placing
) -> None:
    changed = event.data
    projection = Projection(uow)
    case = await projection.case(str(changed.case_id))
    await projection.count(
        str(event.id),
        "status_changes",
        placing.day(changed.changed_at),
        _dimensions(changed, case.source),
        code=changed.to_status.value,
    )


@cases.handles(ScreeningCompleted)
async def count_screening(
    event: CloudEvent[ScreeningCompleted], uow: UnitOfWork, placing: Placing
) -> None:
    screening = event.data
    projection = Projection(uow)
    case = await projection.case(str(screening.case_id))
    dimensions = _dimensions(screening, case.source)
    day = placing.day(screening.completed_at)
    await projection.count(
        str(event.id), "screenings", day, dimensions, code=screening.outcome.value
    )
    await projection.count_first(
        str(screening.case_id),
        LEAD_TIME[Stage.SCREENING],
        day,
        dimensions,
        order=(utc(screening.completed_at), str(event.id)),
        value=_lead_days(case, placing, day),
    )


@cases.handles(ContactRecorded)
async def count_contact(
    event: CloudEvent[ContactRecorded], uow: UnitOfWork, placing: Placing
) -> None:
    """Contacts, their minutes (work-plan hours), who was reached, and the lead
    time to the first contact that reached the person or family."""
    contact = event.data
    projection = Projection(uow)
    case = await projection.case(str(contact.case_id))
    dimensions = _dimensions(contact, case.source)
    day, kind = contact.contact_date, contact.kind.value
    await projection.count(str(event.id), "contacts", day, dimensions, code=kind)
    await projection.count(
        str(event.id), "contact_minutes", day, dimensions, code=kind, value=contact.minutes
    )
    if contact.reached:
        await projection.count(
            str(event.id), "contacts_reached", day, dimensions, code=kind, person=case.person
        )
        await projection.count_first(
            str(contact.case_id),
            LEAD_TIME[Stage.FIRST_CONTACT],
            day,
            dimensions,
            order=(day.isoformat(), utc(contact.recorded_at), str(event.id)),
            value=_lead_days(case, placing, day),
        )


@cases.handles(MayorLetterRequested)
async def count_letter_requested(
    event: CloudEvent[MayorLetterRequested], uow: UnitOfWork, placing: Placing
) -> None:
    requested = event.data
    projection = Projection(uow)
    case = await projection.case(str(requested.case_id))
    await projection.count(
        str(event.id),
        "letters_requested",
        placing.day(requested.requested_at),
        _dimensions(requested, case.source),
    )


@cases.handles(MayorLetterAnswered)
async def count_letter_answer(
    event: CloudEvent[MayorLetterAnswered], uow: UnitOfWork, placing: Placing
) -> None:
    answered = event.data
    projection = Projection(uow)
    case = await projection.case(str(answered.case_id))
    await projection.count(
        str(event.id),
        "letter_answers",
        answered.answered_on,
        _dimensions(answered, case.source),
        code=answered.answer.value,
    )


@cases.handles(DeadlineBreached)
async def count_breach(
    event: CloudEvent[DeadlineBreached], uow: UnitOfWork, placing: Placing
) -> None:
    """A breach counts once however often it is escalated; an escalation to the
    area manager is counted besides."""
    breach = event.data
    projection = Projection(uow)
    case = await projection.case(str(breach.case_id))
    dimensions = _dimensions(breach, case.source)
    key = f"{breach.case_id}:{breach.deadline.value}:{breach.due_on.isoformat()}"
    order = (utc(breach.detected_at), str(event.id))
    day = placing.day(breach.detected_at)
    code = breach.deadline.value
    await projection.count_first(key, "deadline_breaches", day, dimensions, order=order, code=code)
    if breach.escalation is Escalation.AREA_MANAGER:
        await projection.count_first(
            key, "breaches_escalated", day, dimensions, order=order, code=code
        )
