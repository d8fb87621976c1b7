"""Reads of signals, limited to what the caller may see (``access``); all audit-logged."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from buurtsignaal_contracts.codes import Category, SourceType
from servicekit.app import provide
from servicekit.audit import Action, AuditLog, AuditUser
from servicekit.authz import Authorized
from servicekit.http.paging import Limit
from servicekit.http.problems import FieldError, Problem, not_found
from servicekit.mongo import UnitOfWork
from signals_service.access import read_purpose, visible_query
from signals_service.api.common import Tx
from signals_service.api.models import SignalOut, SignalPage
from signals_service.domain.lifecycle import SignalStatus
from signals_service.matcher import Matcher
from signals_service.persons import PersonRegistry
from signals_service.processing import READS, SIGNAL_OVERVIEW
from signals_service.store import Signal, SignalStore

router = APIRouter(prefix="/api/v1", tags=["reads"])

Reader = Authorized  # the caller's scopes on the route (access_matrix.py)
Persons = Annotated[PersonRegistry, provide(PersonRegistry)]
MatcherDep = Annotated[Matcher, provide(Matcher)]

PSEUDONYM = r"^ps-[0-9a-f]{32}$"


@router.get(
    "/signals/{signal_id}",
    response_model=SignalOut,
    summary="One signal, with its description and who else is involved",
)
async def get_signal(
    signal_id: uuid.UUID,
    access: Reader,
    persons: Persons,
    matcher: MatcherDep,
    transactions: Tx,
) -> SignalOut:
    async def read(uow: UnitOfWork) -> SignalOut:
        signal = await SignalStore(uow).get(signal_id)
        purpose = await read_purpose(uow, access, signal) if signal else None
        if signal is None or purpose is None:
            raise not_found("signal")
        # The read is logged in the same transaction: no log, no data.
        await AuditLog(uow).record(
            AuditUser.of(access.principal),
            Action.READ,
            READS[purpose],
            signal.person,
            f"signal:{signal.id}",
        )
        today = uow.clock.now().date()
        return SignalOut.of(
            signal,
            today,
            description=await persons.description_of(uow, signal),
            matched_with=await matcher.matched_with(uow, signal, today),
        )

    return await transactions.run(read)


@router.get(
    "/signals",
    response_model=SignalPage,
    summary="Signals you may see: your organisation's, and those of your teams' cases",
)
async def list_signals(
    access: Reader,
    transactions: Tx,
    district: str | None = None,
    category: Category | None = None,
    source_type: SourceType | None = None,
    status: Annotated[str | None, Query(pattern="^(active|withdrawn|expired)$")] = None,
    person: Annotated[str | None, Query(pattern=PSEUDONYM)] = None,
    limit: Limit = 20,
    cursor: str | None = None,
) -> SignalPage:
    after = _decode_cursor(cursor)

    async def read(uow: UnitOfWork) -> tuple[list[Signal], Any]:
        visible = await visible_query(uow, access)
        if visible is None:
            return [], uow.clock.now().date()
        today = uow.clock.now().date()
        filters: dict[str, Any] = {}
        for key, value in (
            ("district", district),
            ("category", category),
            ("source_type", source_type),
            ("person", person),
        ):
            if value is not None:
                filters[key] = str(value)
        if status == "active":
            filters.update(status=SignalStatus.ACTIVE.value, expires_on={"$gt": today.isoformat()})
        elif status == "withdrawn":
            filters["status"] = SignalStatus.WITHDRAWN.value
        elif status == "expired":  # past its date, the retention job not yet done
            filters["expires_on"] = {"$lte": today.isoformat()}
        query = {"$and": [visible, filters]} if visible and filters else visible or filters
        signals = await SignalStore(uow).page(query, limit=limit, after=after)
        await AuditLog(uow).record_many(
            AuditUser.of(access.principal),
            Action.READ,
            SIGNAL_OVERVIEW,
            [(s.person, f"signal:{s.id}") for s in signals],
        )
        return signals, today

    signals, today = await transactions.run(read)
    next_cursor = _encode_cursor(signals[-1]) if len(signals) == limit else None
    return SignalPage(items=[SignalOut.of(s, today) for s in signals], next_cursor=next_cursor)


def _encode_cursor(signal: Signal) -> str:
    raw = f"{signal.received_at.isoformat()}|{signal.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    try:
        received_at, signal_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(received_at), str(uuid.UUID(signal_id))
    except ValueError:
        raise Problem(
            422,
            "Invalid request",
            "cursor: not a cursor this API returned",
            "validation",
            [FieldError("query.cursor", "not a cursor this API returned")],
        ) from None
