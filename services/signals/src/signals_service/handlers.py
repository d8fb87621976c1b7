"""Event handlers of the signals service.

Which team holds a case about whom: case workers read signals through their
cases (need to know); the signals service learns from the cases service's
events, never from its database, which team holds an open case for which
pseudonym.

Who processed whose data: the other services' ``personal-data-processed``
events are collected into the access trail (this service's own processing is in
its own audit log), so a person can be told who looked at or changed their data
(AVG art. 15), across services.

The last step of an erasure: once our own subject-erased comes back, the outbox
records naming the person can go.
"""

from __future__ import annotations

from buurtsignaal_contracts import CloudEvent
from buurtsignaal_contracts.events import (
    CaseAssigned,
    CaseClosed,
    CaseOpened,
    CaseReopened,
    CasesPersonalDataProcessed,
    NotificationsPersonalDataProcessed,
    PersonalDataProcessed,
    SubjectErased,
)
from servicekit.messaging import EventRouter
from servicekit.mongo import UnitOfWork
from signals_service.erasure import finish_erasure
from signals_service.store import AccessTrailStore, CaseAccessStore, PersonStore

cases = EventRouter()
access_trail = EventRouter()
erasures = EventRouter()


@cases.handles(CaseOpened)
async def remember_case(event: CloudEvent[CaseOpened], uow: UnitOfWork) -> None:
    """The team of a new case may read the signals about its person."""
    case = event.data
    if await PersonStore(uow).find_by_pseudonym(case.person) is None:
        return  # forgotten already (e.g. withdrawn as wrongful): nothing to read
    await CaseAccessStore(uow).opened(str(case.case_id), case.person, case.team, case.opened_at)


@cases.handles(CaseAssigned)
async def follow_case_team(event: CloudEvent[CaseAssigned], uow: UnitOfWork) -> None:
    """An assignment names the case's team; a case handed to another team moves access."""
    await CaseAccessStore(uow).set_team(str(event.data.case_id), event.data.team)


@cases.handles(CaseClosed)
async def case_closed(event: CloudEvent[CaseClosed], uow: UnitOfWork) -> None:
    """A closed case no longer gives its team access to the signals."""
    case = event.data
    await CaseAccessStore(uow).set_open(str(case.case_id), case.team, False, case.closed_at)


@cases.handles(CaseReopened)
async def case_reopened(event: CloudEvent[CaseReopened], uow: UnitOfWork) -> None:
    case = event.data
    await CaseAccessStore(uow).set_open(str(case.case_id), case.team, True, case.reopened_at)


async def _collect(event: CloudEvent[PersonalDataProcessed], uow: UnitOfWork) -> None:
    data = event.data
    await AccessTrailStore(uow).add(
        {
            "_id": str(data.processing_id),
            "service": data.service,
            "correlation_id": event.correlationid,
            **data.model_dump(mode="python", exclude={"processing_id"}),
        }
    )


@access_trail.handles(CasesPersonalDataProcessed)
async def collect_cases_processing(
    event: CloudEvent[CasesPersonalDataProcessed], uow: UnitOfWork
) -> None:
    await _collect(event, uow)


@access_trail.handles(NotificationsPersonalDataProcessed)
async def collect_notifications_processing(
    event: CloudEvent[NotificationsPersonalDataProcessed], uow: UnitOfWork
) -> None:
    await _collect(event, uow)


@erasures.handles(SubjectErased)
async def forget_published_mentions(event: CloudEvent[SubjectErased], uow: UnitOfWork) -> None:
    """Our own event came back, so it has been published: its outbox record, the last
    copy of the pseudonym here (besides the processing log), can go."""
    await finish_erasure(uow, event.data.person, str(event.id))
