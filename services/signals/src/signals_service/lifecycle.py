"""Withdrawal, expiry, death and the archive: the lifecycle table of
``domain.lifecycle`` applied to the store, with its events.

The retention job runs in the service on a schedule (``RETENTION_INTERVAL_SECONDS``)
with the time of the injected clock; each signal and each archive record is
handled in a transaction of its own and only if it is still due, so the job
can run again after a crash, or in two replicas at once, without doing
anything twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from buurtsignaal_contracts.codes import ExpiryReason, WithdrawalReason
from buurtsignaal_contracts.events import SignalExpired, SignalWithdrawn
from servicekit.app import ServiceRuntime
from servicekit.audit import Action, AuditLog, AuditUser, processing_route
from servicekit.mongo import UnitOfWork
from servicekit.scheduling import every
from signals_service.domain.lifecycle import (
    Outcome,
    RetentionRules,
    SignalStatus,
    Step,
    outcome_of,
    withdrawal_step,
)
from signals_service.intake import Reporter
from signals_service.matcher import Matcher
from signals_service.metrics import SignalsMetrics
from signals_service.persons import PersonRegistry
from signals_service.processing import DECEASED, RETENTION, SIGNAL_WITHDRAWAL, WRONGFUL_SIGNAL
from signals_service.store import (
    ArchivedSignal,
    ArchiveStore,
    PersonStore,
    SignalStore,
)

log = logging.getLogger(__name__)

BATCH = 200


class SignalNotFound(Exception):
    """No such signal, or not one the caller may change (the API answers 404 for both)."""


@dataclass(frozen=True)
class Withdrawal:
    signal_id: uuid.UUID
    outcome: Outcome
    reason: WithdrawalReason
    withdrawn_at: datetime
    replayed: bool = False


class SignalLifecycle:
    def __init__(self, persons: PersonRegistry, matcher: Matcher, rules: RetentionRules) -> None:
        self._persons = persons
        self._matcher = matcher
        self.rules = rules

    async def withdraw(
        self, uow: UnitOfWork, signal_id: uuid.UUID, reason: WithdrawalReason, by: Reporter
    ) -> Withdrawal:
        """The reporting organisation takes its signal back; wrongful means deleted."""
        signals = SignalStore(uow)
        signal = await signals.get(signal_id)
        if signal is None or signal.reporting_org != by.organisation:
            raise SignalNotFound(signal_id)
        if signal.status is SignalStatus.WITHDRAWN and signal.withdrawal_reason is reason:
            assert signal.withdrawn_at is not None
            return Withdrawal(signal.id, Outcome.WITHDRAWN, reason, signal.withdrawn_at, True)
        outcome = outcome_of(signal.status, withdrawal_step(reason))
        now = uow.clock.now()
        if outcome is Outcome.WITHDRAWN:
            await signals.save_withdrawal(signal.withdrawn(reason, now))
        else:
            await signals.delete(signal.id)
        uow.emit(
            SignalWithdrawn(
                signal_id=signal.id,
                person=signal.person,
                reporting_org=signal.reporting_org,
                reason=reason,
                withdrawn_at=now,
            )
        )
        await self._matcher.after_removal(uow, signal, now.date())
        await AuditLog(uow).record(
            AuditUser(by.account, by.organisation),
            Action.DELETE if outcome is Outcome.DELETED else Action.UPDATE,
            SIGNAL_WITHDRAWAL,
            signal.person,
            f"signal:{signal.id}",
        )
        if outcome is Outcome.DELETED:
            await self._persons.forget_if_unreferenced(uow, signal.person_id, WRONGFUL_SIGNAL)
        return Withdrawal(signal.id, outcome, reason, now)

    async def expire(self, uow: UnitOfWork, signal_id: uuid.UUID, now: datetime) -> bool:
        """Archive a signal whose time has come; False when it is gone or not due (yet)."""
        signals = SignalStore(uow)
        signal = await signals.get(signal_id)
        if signal is None or signal.expires_on > now.date():
            return False
        outcome = outcome_of(signal.status, Step.EXPIRE)
        assert outcome is Outcome.ARCHIVED
        person = await PersonStore(uow).get(signal.person_id)
        await ArchiveStore(uow).add(
            signal.person_id,
            signal.person,
            person["lookup_keys"],
            ArchivedSignal(
                signal_id=str(signal.id),
                registered_on=signal.received_at.date(),
                expired_on=signal.expires_on,
                reason=signal.expiry_reason,
                purge_on=self.rules.purge_on(signal.expires_on),
            ),
        )
        await signals.delete(signal.id)
        if signal.status is SignalStatus.ACTIVE:
            # A withdrawn signal was announced as such already; nothing changes for others.
            uow.emit(
                SignalExpired(
                    signal_id=signal.id,
                    person=signal.person,
                    reason=signal.expiry_reason,
                    expired_at=now,
                )
            )
        await self._matcher.after_removal(uow, signal, now.date())
        await AuditLog(uow).record(
            AuditUser.system(), Action.DELETE, RETENTION, signal.person, f"signal:{signal.id}"
        )
        await self._persons.forget_if_unreferenced(uow, signal.person_id, RETENTION)
        return True

    async def deceased(
        self, uow: UnitOfWork, pseudonym: str, actor: str, org: str | None
    ) -> int | None:
        """The person died: every signal about them goes, and nothing is archived."""
        person = await PersonStore(uow).find_by_pseudonym(pseudonym)
        if person is None:
            return None
        now = uow.clock.now()
        signals = SignalStore(uow)
        removed = await signals.of_person(person["_id"])
        for signal in removed:
            outcome = outcome_of(signal.status, Step.DECEASED)
            assert outcome is Outcome.DELETED
            await signals.delete(signal.id)
            if signal.status is SignalStatus.ACTIVE:
                uow.emit(
                    SignalExpired(
                        signal_id=signal.id,
                        person=signal.person,
                        reason=ExpiryReason.DECEASED,
                        expired_at=now,
                    )
                )
            await self._matcher.after_removal(uow, signal, now.date())
        known_by = await self._persons.known_by(uow, person)
        await ArchiveStore(uow).delete_for(person["_id"], known_by)
        await AuditLog(uow).record(
            AuditUser(actor, org), Action.DELETE, DECEASED, pseudonym, f"person:{pseudonym}"
        )
        await self._persons.forget_if_unreferenced(uow, person["_id"], DECEASED)
        return len(removed)


@dataclass(frozen=True)
class RetentionRun:
    expired: int
    purged: int
    failed: int


async def run_retention(runtime: ServiceRuntime, now: datetime) -> RetentionRun:
    """Expire what is due, purge what the archive no longer needs. Idempotent."""
    lifecycle = runtime.get(SignalLifecycle)
    metrics = runtime.get(SignalsMetrics)
    transactions = runtime.transactions
    today = now.date()

    async def expire(signal_id: str) -> int:
        return int(
            await transactions.run(lambda uow: lifecycle.expire(uow, uuid.UUID(signal_id), now))
        )

    async def purge(record_id: str) -> int:
        return await transactions.run(lambda uow: ArchiveStore(uow).purge(record_id, today))

    async def due_signals(skip: frozenset[str]) -> list[str]:
        found = await transactions.run(
            lambda uow: SignalStore(uow).due_for_expiry(today, BATCH, skip)
        )
        return [str(i) for i in found]

    async def due_records(skip: frozenset[str]) -> list[str]:
        return await transactions.run(
            lambda uow: ArchiveStore(uow).due_for_purge(today, BATCH, skip)
        )

    with processing_route("job:retention"):
        expired, failed_signals = await _each_due(due_signals, expire, "signal")
        purged, failed_records = await _each_due(due_records, purge, "archive record")
    failed = len(failed_signals) + len(failed_records)
    metrics.retention(expired=expired, purged=purged, failed=failed, at=now)
    if expired or purged or failed:
        log.info("retention run", extra={"expired": expired, "purged": purged, "failed": failed})
    return RetentionRun(expired, purged, failed)


async def _each_due(
    due: Callable[[frozenset[str]], Awaitable[list[str]]],
    handle: Callable[[str], Awaitable[int]],
    what: str,
) -> tuple[int, set[str]]:
    """Handle every due item, page by page; one that fails is skipped until the next run."""
    done, failed = 0, set[str]()
    while page := await due(frozenset(failed)):
        for item_id in page:
            try:
                done += await handle(item_id)
            except Exception as error:
                failed.add(item_id)
                log.error(
                    f"a {what} could not be handled; tried again at the next run",
                    extra={"item_id": item_id, "error": type(error).__name__},
                    exc_info=error,
                )
        if len(page) < BATCH:
            break
    return done, failed


def retention_task(interval_seconds: float):  # type: ignore[no-untyped-def]
    return every(timedelta(seconds=interval_seconds), run_retention)
