"""Intake over HTTP: one signal, or a batch from a partner system."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import ValidationError

from servicekit.app import provide
from servicekit.http.idempotency import IdempotencyKey, create_once
from servicekit.http.problems import invalid
from servicekit.http.security import CurrentPrincipal
from servicekit.mongo import UnitOfWork
from signals_service.api.common import Tx, rejected_problem, reporter_of
from signals_service.api.models import (
    BatchIn,
    BatchItemIn,
    BatchItemOut,
    BatchOut,
    FieldErrorOut,
    SignalIn,
    SignalOut,
)
from signals_service.intake import IntakeRejected, Registered, Reporter, SignalIntake
from signals_service.metrics import SignalsMetrics
from signals_service.settings import SignalsSettings

router = APIRouter(prefix="/api/v1", tags=["intake"])

# Who may report: access_matrix.py (the organisation's own signals).
ReporterPrincipal = CurrentPrincipal
Intake = Annotated[SignalIntake, provide(SignalIntake)]
Metrics = Annotated[SignalsMetrics, provide(SignalsMetrics)]
Settings = Annotated[SignalsSettings, provide(SignalsSettings)]

# Items of one batch registered at the same time: enough to overlap database
# round trips, few enough that rows about one person rarely conflict.
BATCH_CONCURRENCY = 4


@router.post("/signals", status_code=201, response_model=SignalOut, summary="Report a signal")
async def submit_signal(
    body: SignalIn,
    principal: ReporterPrincipal,
    intake: Intake,
    transactions: Tx,
    metrics: Metrics,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    reporter = reporter_of(principal)
    registered: list[Registered] = []
    try:
        checked = intake.check(body.to_submission())

        async def create(uow: UnitOfWork) -> tuple[int, Any]:
            registered.clear()  # the transaction may run more than once
            outcome = await intake.register(uow, checked, reporter)
            registered.append(outcome)
            today = uow.clock.now().date()
            return 201, SignalOut.of(outcome.signal, today).model_dump(mode="json")

        result = await create_once(
            transactions,
            key=idempotency_key,
            principal=principal,
            scope="signals:create",
            payload=body.model_dump(mode="json"),
            create=create,
        )
    except IntakeRejected as rejected:
        metrics.intake.labels("single", "rejected").inc()
        raise rejected_problem(rejected) from None
    _count(metrics, "single", registered)
    if result.status_code == 201:
        result.headers["Location"] = f"/api/v1/signals/{json.loads(bytes(result.body))['id']}"
    return result


@router.post(
    "/signals/batch",
    response_model=BatchOut,
    summary="Report many signals at once (partner systems)",
    description=(
        "Each item is a signal as for POST /signals plus the partner's `external_ref`. "
        "Every item is checked and stored on its own: good items are stored, bad ones are "
        "reported by index with the fields at fault, and an item whose reference was "
        "imported before is reported as a duplicate and not stored again, so a batch can "
        "be resent after a failure."
    ),
)
async def submit_batch(
    body: BatchIn,
    principal: ReporterPrincipal,
    intake: Intake,
    transactions: Tx,
    metrics: Metrics,
    settings: Settings,
) -> BatchOut:
    reporter = reporter_of(principal)
    if len(body.signals) > settings.batch_max_items:
        raise invalid("signals", f"at most {settings.batch_max_items} per batch", "too_long")
    gate = asyncio.Semaphore(BATCH_CONCURRENCY)

    async def one(index: int, raw: dict[str, Any]) -> BatchItemOut:
        async with gate:
            return await _register_item(index, raw, reporter, intake, transactions, metrics)

    results = list(await asyncio.gather(*(one(i, r) for i, r in enumerate(body.signals))))
    return BatchOut(
        created=sum(r.result == "created" for r in results),
        duplicates=sum(r.result == "duplicate" for r in results),
        rejected=sum(r.result == "rejected" for r in results),
        results=results,
    )


async def _register_item(
    index: int,
    raw: dict[str, Any],
    reporter: Reporter,
    intake: SignalIntake,
    transactions: Tx,
    metrics: SignalsMetrics,
) -> BatchItemOut:
    try:
        item = BatchItemIn.model_validate(raw)
        checked = intake.check(item.to_submission())
        registered = await transactions.run(
            lambda uow: intake.register(uow, checked, reporter, item.external_ref)
        )
    except ValidationError as error:
        metrics.intake.labels("batch", "rejected").inc()
        return BatchItemOut(index=index, result="rejected", errors=_field_errors(error))
    except IntakeRejected as rejected:
        metrics.intake.labels("batch", "rejected").inc()
        errors = [
            FieldErrorOut(field=v.field, message=v.message, code=v.code)
            for v in rejected.violations
        ]
        return BatchItemOut(index=index, result="rejected", errors=errors)
    _count(metrics, "batch", [registered])
    return BatchItemOut(
        index=index,
        result="created" if registered.created else "duplicate",
        id=registered.signal.id,
        person=registered.signal.person,
    )


def _field_errors(error: ValidationError) -> list[FieldErrorOut]:
    """Field paths and messages only: the submitted values are never echoed."""
    return [
        FieldErrorOut(
            field=".".join(str(p) for p in e["loc"]) or "body",
            message=e["msg"].removeprefix("Value error, "),
            code=e["type"],
        )
        for e in error.errors(include_input=False, include_url=False)
    ]


def _count(metrics: SignalsMetrics, channel: str, registered: list[Registered]) -> None:
    for outcome in registered:
        metrics.intake.labels(channel, "created" if outcome.created else "duplicate").inc()
        for match in outcome.matches:
            metrics.matches.labels("household" if match.household else "person").inc()
