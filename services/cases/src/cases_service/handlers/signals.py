"""What the signals service tells the cases service.

signal-received   opens a case for the person and programme, or joins the open one
signal-matched    raises the priority of the person's open cases and shows the
                  other organisations (also remembered for cases opened later)
signal-withdrawn  a wrongful signal leaves its case without a trace; another
                  withdrawal marks it; an unstarted case left without an active
                  signal is closed by the system
signal-expired    marks the signal on its case; the case itself goes on
subject-erased    removes the person's cases, contacts, screenings and matches
"""

from __future__ import annotations

import logging

from buurtsignaal_contracts import CloudEvent
from buurtsignaal_contracts.events import (
    SignalExpired,
    SignalMatched,
    SignalReceived,
    SignalWithdrawn,
    SubjectErased,
)
from cases_service.service import CaseService
from servicekit.messaging import EventRouter
from servicekit.mongo import UnitOfWork

log = logging.getLogger(__name__)

signals = EventRouter()


@signals.handles(SignalReceived)
async def open_or_join_case(
    event: CloudEvent[SignalReceived], uow: UnitOfWork, cases: CaseService
) -> None:
    """A signal opens a case for its person and programme, or joins the open one."""
    await cases.open_or_join(uow, event.data)


@signals.handles(SignalMatched)
async def raise_priority_on_match(
    event: CloudEvent[SignalMatched], uow: UnitOfWork, cases: CaseService
) -> None:
    """Two or more organisations signal the person: act together, and soon."""
    changed = await cases.apply_match(uow, event.data)
    log.info("match applied", extra={"match_id": str(event.data.match_id), "cases": changed})


@signals.handles(SignalWithdrawn)
async def take_back_withdrawn_signal(
    event: CloudEvent[SignalWithdrawn], uow: UnitOfWork, cases: CaseService
) -> None:
    """A withdrawn signal no longer counts on its case."""
    await cases.signal_withdrawn(uow, event.data)


@signals.handles(SignalExpired)
async def mark_expired_signal(
    event: CloudEvent[SignalExpired], uow: UnitOfWork, cases: CaseService
) -> None:
    """An expired signal is marked on its case; the case goes on."""
    await cases.signal_expired(uow, event.data)


@signals.handles(SubjectErased)
async def erase_person(
    event: CloudEvent[SubjectErased], uow: UnitOfWork, cases: CaseService
) -> None:
    """AVG art. 17: the person's data leaves this service too."""
    removed = await cases.erase_person(uow, event.data.person)
    log.info("person erased", extra={"erasure_id": str(event.data.erasure_id), "cases": removed})
