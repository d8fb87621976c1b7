"""Projections: every counted event becomes a fact with its day, district, programme, source."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from buurtsignaal_contracts import CloudEvent
from buurtsignaal_contracts.events import CaseOpened, SignalReceived
from reporting_service.settings import ReportingSettings
from reporting_service.store import UNASSIGNED, Facts
from servicekit.messaging import EventRouter
from servicekit.mongo import UnitOfWork

projections = EventRouter()


@projections.handles(SignalReceived)
async def count_signal(
    event: CloudEvent[SignalReceived], uow: UnitOfWork, settings: ReportingSettings
) -> None:
    signal = event.data
    programme = signal.suggested_programme.value if signal.suggested_programme else UNASSIGNED
    await Facts(uow, ZoneInfo(settings.report_timezone)).add(
        str(event.id),
        signal.received_at,
        measure="signals",
        district=signal.district,
        programme=programme,
        source=signal.source_type.value,
    )


@projections.handles(CaseOpened)
async def count_case_opened(
    event: CloudEvent[CaseOpened], uow: UnitOfWork, settings: ReportingSettings
) -> None:
    case = event.data
    await Facts(uow, ZoneInfo(settings.report_timezone)).add(
        str(event.id),
        case.opened_at,
        measure="cases_opened",
        district=case.district,
        programme=case.programme.value,
        source=case.source_type.value,
    )
