"""Event handlers of the cases service: signals open cases or join them."""

from __future__ import annotations

from buurtsignaal_contracts import CloudEvent
from buurtsignaal_contracts.events import CaseOpened, SignalReceived
from cases_service.domain.case import Case, SignalRef
from cases_service.domain.programme import ProgrammeRules
from cases_service.store import CaseStore
from servicekit.areas import AreaConfig
from servicekit.messaging import EventRouter
from servicekit.mongo import UnitOfWork

intake = EventRouter()


@intake.handles(SignalReceived)
async def open_or_join_case(
    event: CloudEvent[SignalReceived],
    uow: UnitOfWork,
    rules: ProgrammeRules,
    areas: AreaConfig,
) -> None:
    """A signal opens a case for its person and programme, or joins the open one."""
    signal = event.data
    programme = rules.programme_for(signal.category, signal.age_band, signal.suggested_programme)
    ref = SignalRef(
        signal_id=signal.signal_id,
        source_type=signal.source_type,
        reporting_org=signal.reporting_org,
        category=signal.category,
        received_at=signal.received_at,
    )
    cases = CaseStore(uow)
    existing = await cases.find_open(signal.person, programme)
    if existing is not None:
        if existing.add_signal(ref):
            await cases.save(existing)
        return
    case = Case.open_for(
        ref,
        person=signal.person,
        programme=programme,
        team=areas.team_for_district(signal.district),
        district=signal.district,
        now=uow.clock.now(),
    )
    await cases.add(case)
    uow.emit(
        CaseOpened(
            case_id=case.id,
            team=case.team,
            programme=case.programme,
            district=case.district,
            person=case.person,
            signal_id=signal.signal_id,
            source_type=signal.source_type,
            priority=case.priority,
            opened_at=case.opened_at,
            first_signal_at=case.first_signal_at,
        )
    )
