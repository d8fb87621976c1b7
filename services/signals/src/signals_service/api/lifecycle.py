"""Withdrawing a signal, and recording that a person died."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path

from servicekit.app import provide
from servicekit.http.problems import conflict, not_found
from servicekit.http.security import CurrentPrincipal
from servicekit.mongo import UnitOfWork
from signals_service.api.common import Tx, reporter_of
from signals_service.api.models import DeceasedOut, WithdrawalIn, WithdrawalOut
from signals_service.api.reads import PSEUDONYM
from signals_service.domain.lifecycle import Outcome, StepNotAllowed
from signals_service.lifecycle import SignalLifecycle, SignalNotFound, Withdrawal
from signals_service.metrics import SignalsMetrics

router = APIRouter(prefix="/api/v1", tags=["lifecycle"])

# Who may call these routes: access_matrix.py.
ReporterPrincipal = CurrentPrincipal
Admin = CurrentPrincipal
Lifecycle = Annotated[SignalLifecycle, provide(SignalLifecycle)]
Metrics = Annotated[SignalsMetrics, provide(SignalsMetrics)]


@router.post(
    "/signals/{signal_id}/withdrawal",
    response_model=WithdrawalOut,
    summary="Withdraw your organisation's signal, with a reason",
    description=(
        "A withdrawn signal no longer counts for matching and is kept, visible to your "
        "organisation, until it expires. Reason `wrongful` deletes the signal outright: "
        "nothing of it is archived (and the person too, when nothing else is about them). "
        "Withdrawing again with the same reason answers the same; a withdrawn signal can "
        "still be corrected to `wrongful`."
    ),
)
async def withdraw_signal(
    signal_id: uuid.UUID,
    body: WithdrawalIn,
    principal: ReporterPrincipal,
    lifecycle: Lifecycle,
    transactions: Tx,
    metrics: Metrics,
) -> WithdrawalOut:
    reporter = reporter_of(principal)

    async def withdraw(uow: UnitOfWork) -> Withdrawal:
        return await lifecycle.withdraw(uow, signal_id, body.reason, reporter)

    try:
        done = await transactions.run(withdraw)
    except SignalNotFound:
        raise not_found("signal") from None
    except StepNotAllowed as refused:
        raise conflict(str(refused)) from None
    if not done.replayed:
        metrics.lifecycle.labels(done.outcome.value).inc()
    return WithdrawalOut(
        id=done.signal_id,
        status="deleted" if done.outcome is Outcome.DELETED else "withdrawn",
        reason=done.reason,
        withdrawn_at=done.withdrawn_at,
    )


@router.post(
    "/persons/{pseudonym}/deceased",
    response_model=DeceasedOut,
    summary="The person died: remove every signal about them (admins)",
    description=(
        "Every signal about the person is removed without an archive record, "
        "`signal-expired` (reason `deceased`) is published for each active one, and the "
        "person's identity and key are deleted."
    ),
)
async def person_deceased(
    pseudonym: Annotated[str, Path(pattern=PSEUDONYM)],
    principal: Admin,
    lifecycle: Lifecycle,
    transactions: Tx,
    metrics: Metrics,
) -> DeceasedOut:
    async def record(uow: UnitOfWork) -> int | None:
        return await lifecycle.deceased(uow, pseudonym, principal.sub, principal.org)

    removed = await transactions.run(record)
    if removed is None:
        raise not_found("person")
    metrics.lifecycle.labels("deceased").inc(removed)
    return DeceasedOut(person=pseudonym, signals_removed=removed)
