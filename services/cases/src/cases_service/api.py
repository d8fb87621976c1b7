"""HTTP API of the cases service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from buurtsignaal_contracts.codes import CaseStatus, Category, Priority, Programme, SourceType
from cases_service.domain.case import Case
from cases_service.store import CaseStore
from servicekit.app import provide
from servicekit.auth import Principal, Role
from servicekit.http.problems import not_found
from servicekit.http.security import require_roles
from servicekit.mongo import Transactions, UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["cases"])

CaseReader = Annotated[
    Principal, Depends(require_roles(Role.WORKER, Role.AREA_MANAGER, Role.ADMIN))
]
Tx = Annotated[Transactions, provide(Transactions)]


class SignalOnCase(BaseModel):
    signal_id: uuid.UUID
    source_type: SourceType
    reporting_org: str
    category: Category
    received_at: datetime


class CaseOut(BaseModel):
    id: uuid.UUID
    person: str
    programme: Programme
    team: str
    district: str
    status: CaseStatus
    priority: Priority
    worker: str | None
    opened_at: datetime
    version: int
    signals: list[SignalOnCase]

    @classmethod
    def of(cls, case: Case) -> CaseOut:
        return cls(
            id=case.id,
            person=case.person,
            programme=case.programme,
            team=case.team,
            district=case.district,
            status=case.status,
            priority=case.priority,
            worker=case.worker,
            opened_at=case.opened_at,
            version=case.version,
            signals=[SignalOnCase(**vars(s)) for s in case.signals],
        )


class CasePage(BaseModel):
    items: list[CaseOut]
    offset: int
    limit: int


def visible_teams(principal: Principal) -> dict[str, Any]:
    """Need to know: a worker or area manager sees the cases of the teams in their token."""
    if principal.has_any(Role.ADMIN):
        return {}
    return {"team": {"$in": sorted(principal.teams)}}


@router.get("/cases", response_model=CasePage, summary="Cases of your teams")
async def list_cases(
    principal: CaseReader,
    transactions: Tx,
    team: str | None = None,
    programme: Programme | None = None,
    status: CaseStatus | None = None,
    person: str | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CasePage:
    query = visible_teams(principal)
    if team is not None:
        query = {"$and": [query, {"team": team}]} if query else {"team": team}
    for key, value in (("programme", programme), ("status", status), ("person", person)):
        if value is not None:
            query[key] = str(value)

    async def read(uow: UnitOfWork) -> list[Case]:
        return await CaseStore(uow).page(query, limit=limit, skip=offset)

    cases = await transactions.run(read)
    return CasePage(items=[CaseOut.of(c) for c in cases], offset=offset, limit=limit)


@router.get("/cases/{case_id}", response_model=CaseOut, summary="One case")
async def get_case(case_id: uuid.UUID, principal: CaseReader, transactions: Tx) -> CaseOut:
    async def read(uow: UnitOfWork) -> Case | None:
        return await CaseStore(uow).get(case_id)

    case = await transactions.run(read)
    # Another team's case answers 404, exactly like a case that does not exist.
    if case is None or not (principal.has_any(Role.ADMIN) or case.team in principal.teams):
        raise not_found("case")
    return CaseOut.of(case)
