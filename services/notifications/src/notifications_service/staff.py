"""What the service knows of people when it decides who hears of an event."""

from __future__ import annotations

from dataclasses import dataclass

from notifications_service.directory import StaffDirectory
from notifications_service.domain.routing import People
from notifications_service.store.assignments import AssignmentStore
from servicekit.areas import AreaConfig
from servicekit.mongo import UnitOfWork


@dataclass(frozen=True)
class Staff:
    """The staff directory and the area configuration, plus what events taught us."""

    directory: StaffDirectory
    areas: AreaConfig

    async def people(self, uow: UnitOfWork, case_id: object | None = None) -> People:
        worker = await AssignmentStore(uow).worker_of(str(case_id)) if case_id else None
        return People(self.directory, self.areas, worker)
