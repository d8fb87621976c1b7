"""Events of the signals service."""

from __future__ import annotations

from buurtsignaal_contracts import CloudEvent
from buurtsignaal_contracts.events import (
    SignalExpired,
    SignalMatched,
    SignalReceived,
    SignalWithdrawn,
    SubjectErased,
)
from reporting_service.domain.measures import UNASSIGNED
from reporting_service.handlers.placing import Placing
from reporting_service.store import Dimensions, Projection, SignalRecord, utc
from servicekit.messaging import EventRouter
from servicekit.mongo import UnitOfWork

signals = EventRouter()


@signals.handles(SignalReceived)
async def count_signal(
    event: CloudEvent[SignalReceived], uow: UnitOfWork, placing: Placing
) -> None:
    signal = event.data
    programme = signal.suggested_programme.value if signal.suggested_programme else UNASSIGNED
    dimensions = Dimensions(
        signal.district, programme, signal.source_type.value, placing.team_of(signal.district)
    )
    projection = Projection(uow)
    await projection.remember_signal(SignalRecord(str(signal.signal_id), signal.person, dimensions))
    await projection.count(
        str(event.id),
        "signals",
        placing.day(signal.received_at),
        dimensions,
        code=signal.category.value,
        person=signal.person,
    )


@signals.handles(SignalMatched)
async def count_match(event: CloudEvent[SignalMatched], uow: UnitOfWork, placing: Placing) -> None:
    """A match counts once, where and when its first organisation joined it."""
    match = event.data
    projection = Projection(uow)
    joining = await projection.signal(str(match.joining_signal_id))
    await projection.count_first(
        str(match.match_id),
        "matches",
        placing.day(match.matched_at),
        joining.dimensions,
        order=(utc(match.matched_at), str(event.id)),
        person=match.person,
    )


@signals.handles(SignalWithdrawn)
async def count_withdrawal(
    event: CloudEvent[SignalWithdrawn], uow: UnitOfWork, placing: Placing
) -> None:
    withdrawn = event.data
    projection = Projection(uow)
    signal = await projection.signal(str(withdrawn.signal_id))
    await projection.count(
        str(event.id),
        "signals_withdrawn",
        placing.day(withdrawn.withdrawn_at),
        signal.dimensions,
        code=withdrawn.reason.value,
    )


@signals.handles(SignalExpired)
async def count_expiry(event: CloudEvent[SignalExpired], uow: UnitOfWork, placing: Placing) -> None:
    expired = event.data
    projection = Projection(uow)
    signal = await projection.signal(str(expired.signal_id))
    await projection.count(
        str(event.id),
        "signals_expired",
        placing.day(expired.expired_at),
        signal.dimensions,
        code=expired.reason.value,
    )


@signals.handles(SubjectErased)
async def forget_person(event: CloudEvent[SubjectErased], uow: UnitOfWork) -> None:
    """The pseudonym goes; every figure stays (see store.Projection.forget)."""
    erased = event.data
    await Projection(uow).forget(erased.person, surrogate=f"erased-{erased.erasure_id.hex}")
