"""The scheduled job that tells deadline breaches, and its metrics.

``servicekit.scheduling.every`` runs :func:`tell_deadline_breaches` with the
runtime clock's now; tests call it with any moment. It is idempotent: each
case is handled in its own transaction that marks whom it told, so a second
run (or a second replica) finds nothing left to tell.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge

from buurtsignaal_contracts.codes import Escalation
from cases_service.service import CaseService
from cases_service.store import CaseStore
from servicekit.audit import processing_route
from servicekit.mongo import UnitOfWork

if TYPE_CHECKING:
    from servicekit.app import ServiceRuntime

log = logging.getLogger(__name__)

BATCH = 200


@dataclass
class DeadlineMetrics:
    breaches_told: Counter
    overdue_cases: Gauge

    @classmethod
    def on(cls, registry: CollectorRegistry) -> DeadlineMetrics:
        return cls(
            Counter(
                "buurtsignaal_cases_deadline_breaches_told",
                "deadline-breached events raised, by whom they are for.",
                ["escalation"],
                registry=registry,
            ),
            Gauge(
                "buurtsignaal_cases_overdue",
                "Open cases with a deadline past its due day, at the last scheduler run.",
                registry=registry,
            ),
        )


async def tell_deadline_breaches(runtime: ServiceRuntime, now: datetime) -> int:
    """Raise deadline-breached for every breach due at ``now``; how many were raised."""
    with processing_route("job:deadline-watch"):
        return await _tell_deadline_breaches(runtime, now)


async def _tell_deadline_breaches(runtime: ServiceRuntime, now: datetime) -> int:
    cases = runtime.get(CaseService)
    metrics = runtime.get(DeadlineMetrics)
    today = cases.rules.local_date(now)
    told = 0
    seen: set[uuid.UUID] = set()
    while True:

        async def due(uow: UnitOfWork) -> list[uuid.UUID]:
            return await CaseStore(uow).ids_with_breaches_due(today, BATCH)

        batch = [case_id for case_id in await runtime.transactions.run(due) if case_id not in seen]
        for case_id in batch:
            seen.add(case_id)

            async def tell(uow: UnitOfWork, case_id: uuid.UUID = case_id) -> list[Escalation]:
                return await cases.tell_breaches(uow, case_id, now)

            try:
                escalations = await runtime.transactions.run(tell)
            except Exception as error:  # one broken case must not stop the others
                log.error(
                    "telling a deadline breach failed; the next run tries again",
                    extra={"case_id": str(case_id), "error": type(error).__name__},
                    exc_info=error,
                )
                continue
            for escalation in escalations:
                metrics.breaches_told.labels(escalation.value).inc()
            told += len(escalations)
        if not batch:
            break

    async def overdue(uow: UnitOfWork) -> int:
        return await CaseStore(uow).count(
            {"is_open": True, "next_due_on": {"$lt": today.isoformat()}}
        )

    metrics.overdue_cases.set(await runtime.transactions.run(overdue))
    if told:
        log.info("deadline breaches told", extra={"count": told, "day": today.isoformat()})
    return told
