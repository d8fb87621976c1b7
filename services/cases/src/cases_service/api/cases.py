"""Cases: lists, one case, its timeline, and the decisions about it."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from buurtsignaal_contracts.codes import CaseStatus, Priority, Programme
from cases_service.api.common import (
    AreaManager,
    Cases,
    CaseWorker,
    Reader,
    Tx,
    refusals_as_problems,
    write_once,
)
from cases_service.api.schemas import (
    AssignmentIn,
    CaseOut,
    CasePage,
    StatusChangeIn,
    Timeline,
    TimelineEntryOut,
)
from cases_service.domain.case import Case
from cases_service.service import CaseFilter
from servicekit.http.idempotency import IdempotencyKey
from servicekit.http.paging import Limit, Offset
from servicekit.mongo import UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["cases"])


@router.get("/cases", response_model=CasePage, summary="Cases of your teams")
async def list_cases(
    actor: Reader,
    cases: Cases,
    transactions: Tx,
    team: Annotated[list[str], Query(description="One or more team codes")] = [],  # noqa: B006
    programme: Annotated[list[Programme], Query()] = [],  # noqa: B006
    status: Annotated[list[CaseStatus], Query()] = [],  # noqa: B006
    priority: Priority | None = None,
    worker: Annotated[str | None, Query(description="Account id of the assigned worker")] = None,
    person: Annotated[str | None, Query(description="Pseudonym")] = None,
    overdue: Annotated[
        bool | None, Query(description="true: a deadline is past its due day; false: none is")
    ] = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> CasePage:
    """Newest first. A worker sees the cases of the teams in their token, an area
    manager those of the teams they manage, an admin all; a team filter outside
    your teams yields no cases."""
    filters = CaseFilter(team, programme, status, priority, worker, person, overdue)

    async def read(uow: UnitOfWork) -> CasePage:
        found, total = await cases.page(uow, actor, filters, offset=offset, limit=limit)
        today = cases.today(uow)
        return CasePage(
            items=[CaseOut.of(c, today) for c in found], offset=offset, limit=limit, total=total
        )

    return await transactions.run(read)


@router.get("/cases/{case_id}", response_model=CaseOut, summary="One case")
async def get_case(case_id: uuid.UUID, actor: Reader, cases: Cases, transactions: Tx) -> CaseOut:
    async def read(uow: UnitOfWork) -> CaseOut:
        return CaseOut.of(await cases.read(uow, case_id, actor), cases.today(uow))

    with refusals_as_problems():
        return await transactions.run(read)


@router.get(
    "/cases/{case_id}/timeline",
    response_model=Timeline,
    summary="Signals, status changes, screening, letters and contacts of a case, in order",
)
async def get_timeline(
    case_id: uuid.UUID, actor: Reader, cases: Cases, transactions: Tx
) -> Timeline:
    async def read(uow: UnitOfWork) -> Timeline:
        entries = await cases.timeline(uow, case_id, actor)
        return Timeline(case_id=case_id, entries=[TimelineEntryOut.of(e) for e in entries])

    with refusals_as_problems():
        return await transactions.run(read)


@router.post(
    "/cases/{case_id}/assignment",
    response_model=CaseOut,
    summary="Assign (or reassign) the worker of a case (area managers)",
)
async def assign_worker(
    case_id: uuid.UUID,
    body: AssignmentIn,
    actor: AreaManager,
    cases: Cases,
    transactions: Tx,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    async def assign(uow: UnitOfWork) -> tuple[int, Any]:
        case = await cases.assign(uow, case_id, actor, body.worker, body.version)
        return 200, _case_json(case, cases, uow)

    return await write_once(
        transactions, actor, f"{case_id}:assignment", body, idempotency_key, assign
    )


@router.post(
    "/cases/{case_id}/status",
    response_model=CaseOut,
    summary="Move a case to another status; closing needs an outcome, reopening a reason",
)
async def change_status(
    case_id: uuid.UUID,
    body: StatusChangeIn,
    actor: CaseWorker,
    cases: Cases,
    transactions: Tx,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Allowed steps are those of the transition table (README, cases); any other
    answers 409 ``transition-not-allowed`` with the statuses the case may move to."""

    async def move(uow: UnitOfWork) -> tuple[int, Any]:
        case = await cases.change_status(
            uow,
            case_id,
            actor,
            body.status,
            body.version,
            outcome=body.outcome,
            reason=body.reason,
        )
        return 200, _case_json(case, cases, uow)

    return await write_once(transactions, actor, f"{case_id}:status", body, idempotency_key, move)


def _case_json(case: Case, cases: Cases, uow: UnitOfWork) -> Any:
    return CaseOut.of(case, cases.today(uow)).model_dump(mode="json")
