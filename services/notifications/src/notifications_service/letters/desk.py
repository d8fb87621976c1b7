"""The letter desk: renders requested letters, hands them out, records delivery, destroys them.

Rendering runs outside the event handler (see handlers/cases.py): a loop claims
a requested letter (the claim pushes its next attempt past a lease, so a
crashed renderer's letter comes back by itself), fetches names and address
from signals, renders the PDF, seals it and stores it in one transaction with
the audit record and the worker's notification. Signals unreachable: tried
again on ``LETTER_RENDER_RETRY_SCHEDULE``, then failed; person unknown: failed
at once. The worker hears either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from buurtsignaal_contracts.codes import LetterDeliveryMethod, LetterHandedTo
from buurtsignaal_contracts.events import MayorLetterSent
from notifications_service.crypto import Vault, is_sealed_for_person
from notifications_service.dispatch import Cause, Dispatcher
from notifications_service.domain import routing
from notifications_service.domain.deliveries import RetrySchedule
from notifications_service.domain.letters import (
    Address,
    FailureReason,
    LetterFacts,
    LetterStatus,
    Name,
    WorkerContact,
    check_delivery,
)
from notifications_service.letters.pdf import LetterPdf
from notifications_service.letters.signals_client import (
    LetterDetails,
    LetterDetailsClient,
    SignalsUnavailable,
)
from notifications_service.metrics import NotificationMetrics
from notifications_service.processing import (
    ERASURE_REQUEST,
    LETTER_RETENTION,
    MAYOR_LETTER,
    MAYOR_LETTER_DELIVERY,
)
from notifications_service.staff import Staff
from notifications_service.store.letters import Delivery, Letter, LetterStore, RenderQueue
from notifications_service.store.persons import PersonKeys
from servicekit import logs
from servicekit.audit import Action, AuditLog, AuditUser, processing_route
from servicekit.authz import Access, Scope
from servicekit.clock import Clock
from servicekit.mongo import RetryTransaction, Transactions, UnitOfWork

if TYPE_CHECKING:
    from servicekit.app import ServiceRuntime

log = logging.getLogger(__name__)

PDF_PURPOSE = "letter-pdf"
LOCAL_TIME = ZoneInfo("Europe/Amsterdam")


class LetterGone(Exception):
    """The letter exists but its PDF does not (any more); says why."""

    def __init__(self, status: LetterStatus) -> None:
        super().__init__(status.value)
        self.status = status


@dataclass(frozen=True)
class DeliveryRecord:
    method: LetterDeliveryMethod
    handed_to: LetterHandedTo
    delivered_on: date


def may_handle(access: Access, letter: Letter) -> bool:
    """The case's team (``own-team``) and the worker who asked for it (``own-user``);
    the matrix (``access_matrix.py``) says which roles have these scopes."""
    teams = access.teams()
    in_team = teams is None or letter.team in teams
    return in_team or (access.has(Scope.OWN_USER) and access.sub == letter.worker)


class LetterDesk:
    def __init__(
        self,
        db: Any,
        transactions: Transactions,
        clock: Clock,
        client: LetterDetailsClient,
        pdf: LetterPdf,
        vault: Vault,
        dispatcher: Dispatcher,
        staff: Staff,
        metrics: NotificationMetrics,
        *,
        schedule: RetrySchedule,
        retention: timedelta,
        lease: timedelta,
        poll_interval: float,
        service_account: str,
    ) -> None:
        self._queue = RenderQueue(db)
        self._transactions = transactions
        self._clock = clock
        self._client = client
        self._pdf = pdf
        self._vault = vault
        self._dispatcher = dispatcher
        self._staff = staff
        self._metrics = metrics
        self._schedule = schedule
        self._retention = retention
        self._lease = lease
        self._poll_interval = poll_interval
        self._service_account = service_account

    # --- rendering ------------------------------------------------------------------------

    async def run(self) -> None:
        with processing_route("job:letter-renderer"):
            await self._run()

    async def _run(self) -> None:
        while True:
            try:
                rendered = await self.render_due()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("letter round failed", extra={"error": type(error).__name__})
                rendered = 0
            if rendered == 0:
                await asyncio.sleep(self._poll_interval)

    async def render_due(self, limit: int = 20) -> int:
        """Render (or give up on) the letters that are due now; how many were handled."""
        handled = 0
        while handled < limit:
            claimed = await self._queue.claim_due(self._clock.now(), self._lease)
            if claimed is None:
                break
            letter, lease_until = claimed
            token = logs.correlation_id.set(letter.correlation_id)
            try:
                await self._render(letter, lease_until)
            finally:
                logs.correlation_id.reset(token)
            handled += 1
        return handled

    async def _render(self, letter: Letter, lease_until: datetime) -> None:
        context = {"letter_id": str(letter.id), "attempt": letter.attempts}
        if letter.person is None:
            return
        try:
            details = await self._client.fetch(letter.person, letter.worker)
        except SignalsUnavailable as error:
            log.warning("letter details unavailable", extra={**context, "error": str(error)})
            await self._retry_or_fail(letter, lease_until)
            return
        if details is None:
            log.warning("letter person unknown to signals", extra=context)
            await self._fail(letter, lease_until, FailureReason.PERSON_UNKNOWN)
            return
        today = self._clock.now().astimezone(LOCAL_TIME).date()
        pdf = self._pdf.render(self.facts(letter, details, today))

        async def store(uow: UnitOfWork) -> bool:
            letters = LetterStore(uow)
            current = await letters.get(letter.id)
            if not _still_claimed(current, lease_until):
                return False  # erased or re-claimed meanwhile: keep nothing
            assert current is not None and current.person is not None
            # Sealed with the person's own key: erasing them destroys it, and with it
            # every copy of this PDF.
            data_key = await PersonKeys(uow, self._vault).key_for(current.person)
            sealed = self._vault.seal_for_person(data_key, PDF_PURPOSE, str(current.id), pdf)
            now = uow.clock.now()
            current.status = LetterStatus.READY
            current.rendered_at = now
            current.keep_until = now + self._retention
            current.next_attempt_at = None
            current.pdf = sealed
            current.pdf_bytes = len(pdf)
            current.history.append({"at": now, "status": LetterStatus.READY.value, "by": None})
            await letters.save(current, expected_status=LetterStatus.REQUESTED)
            # Names and address were fetched from signals and are in the PDF now.
            await AuditLog(uow).record(
                AuditUser(self._service_account, None, current.worker),
                Action.CREATE,
                MAYOR_LETTER,
                current.person,
                f"letter:{current.id}",
            )
            await self._tell_worker(uow, current, routing.Topic.MAYOR_LETTER_READY)
            return True

        if await self._transactions.run(store):
            self._metrics.letters.labels("rendered").inc()
            log.info("letter rendered", extra={**context, "bytes": len(pdf)})

    def facts(self, letter: Letter, details: LetterDetails, today: date) -> LetterFacts:
        areas, directory = self._staff.areas, self._staff.directory
        member = directory.member(letter.worker)
        if member is not None:
            worker = WorkerContact(member.name, member.phone, member.email)
        else:  # not in the directory: the team is the contact
            team = next((t.name for t in areas.teams if t.code == letter.team), letter.team)
            worker = WorkerContact(
                f"Het jongerenwerk van {team}", None, directory.team_mailbox(letter.team)
            )
        return LetterFacts(
            reference=reference(letter.id),
            municipality=areas.municipality.title(),
            youth=Name(details.youth.given_name, details.youth.family_name),
            guardians=tuple(Name(g.given_name, g.family_name) for g in details.guardians),
            address=Address(
                details.address.street,
                details.address.house_number,
                details.address.postcode,
                details.address.city,
            ),
            addressees=tuple(letter.addressees),
            worker=worker,
            dated=today,
        )

    async def _retry_or_fail(self, letter: Letter, lease_until: datetime) -> None:
        retry_at = self._schedule.next_attempt(letter.attempts, self._clock.now())
        if retry_at is None:
            await self._fail(letter, lease_until, FailureReason.SIGNALS_UNAVAILABLE)
            return

        async def reschedule(uow: UnitOfWork) -> None:
            letters = LetterStore(uow)
            current = await letters.get(letter.id)
            if _still_claimed(current, lease_until):
                assert current is not None
                current.next_attempt_at = retry_at
                await letters.save(current, expected_status=LetterStatus.REQUESTED)

        await self._transactions.run(reschedule)

    async def _fail(self, letter: Letter, lease_until: datetime, reason: FailureReason) -> None:
        async def fail(uow: UnitOfWork) -> bool:
            letters = LetterStore(uow)
            current = await letters.get(letter.id)
            if not _still_claimed(current, lease_until):
                return False
            assert current is not None
            now = uow.clock.now()
            current.status = LetterStatus.FAILED
            current.failure = reason
            current.next_attempt_at = None
            current.history.append({"at": now, "status": "failed", "reason": reason.value})
            await letters.save(current, expected_status=LetterStatus.REQUESTED)
            await self._tell_worker(uow, current, routing.Topic.MAYOR_LETTER_FAILED)
            return True

        if await self._transactions.run(fail):
            self._metrics.letters.labels("failed").inc()

    async def _tell_worker(self, uow: UnitOfWork, letter: Letter, topic: routing.Topic) -> None:
        facts = {
            "programme": letter.programme.value,
            "district": letter.district,
            "team": letter.team,
        }
        if letter.failure is not None:
            facts["failure"] = letter.failure.value
        notices = routing.mayor_letter_outcome(
            topic,
            letter_id=str(letter.id),
            case_id=letter.case_id,
            worker=letter.worker,
            facts=facts,
            people=await self._staff.people(uow),
        )
        cause = Cause(
            uuid.UUID(letter.cause_event_id), letter.cause_event_type, letter.correlation_id
        )
        await self._dispatcher.tell(uow, cause, notices)

    # --- handing out and delivery ---------------------------------------------------------

    async def visible(self, uow: UnitOfWork, letter_id: uuid.UUID, principal: Access) -> Letter:
        letter = await LetterStore(uow).get(letter_id)
        if letter is None or not may_handle(principal, letter):
            raise LookupError(str(letter_id))
        return letter

    async def download(self, uow: UnitOfWork, letter_id: uuid.UUID, principal: Access) -> bytes:
        """The PDF for an authorised member of staff; the read is audit-logged with it."""
        letter = await self.visible(uow, letter_id, principal)
        if letter.status is not LetterStatus.READY or letter.pdf is None:
            raise LetterGone(letter.status)
        await AuditLog(uow).record(
            AuditUser.of(principal.principal),
            Action.READ,
            MAYOR_LETTER,
            letter.person,
            f"letter:{letter.id}",
        )
        return await self._open_pdf(uow, letter, letter.pdf)

    async def _open_pdf(self, uow: UnitOfWork, letter: Letter, sealed: bytes) -> bytes:
        if not is_sealed_for_person(sealed):  # stored before letters had per-person keys
            return self._vault.open(PDF_PURPOSE, str(letter.id), sealed)
        data_key = (
            await PersonKeys(uow, self._vault).key_of(letter.person) if letter.person else None
        )
        if data_key is None:
            raise LetterGone(LetterStatus.ERASED)
        return self._vault.open_for_person(data_key, PDF_PURPOSE, str(letter.id), sealed)

    async def record_delivery(
        self, uow: UnitOfWork, letter_id: uuid.UUID, principal: Access, record: DeliveryRecord
    ) -> Letter:
        """Record how and to whom the letter was delivered; destroy the PDF; tell everyone."""
        letters = LetterStore(uow)
        letter = await self.visible(uow, letter_id, principal)
        now = uow.clock.now()
        check_delivery(
            status=letter.status,
            method=record.method,
            handed_to=record.handed_to,
            delivered_on=record.delivered_on,
            requested_on=letter.requested_at.astimezone(LOCAL_TIME).date(),
            today=now.astimezone(LOCAL_TIME).date(),
        )
        previous = letter.status
        letter.status = LetterStatus.DELIVERED
        letter.delivery = Delivery(
            record.method.value, record.handed_to.value, record.delivered_on, principal.sub, now
        )
        letter.pdf = None  # the names and address are not kept after delivery
        letter.pdf_destroyed_at = now
        letter.keep_until = None
        letter.history.append({"at": now, "status": "delivered", "by": principal.sub})
        if not await letters.save(letter, expected_status=previous):
            raise RetryTransaction  # changed under us (rendered, erased): look again
        await AuditLog(uow).record(
            AuditUser.of(principal),
            Action.UPDATE,
            MAYOR_LETTER_DELIVERY,
            letter.person,
            f"letter:{letter.id}",
        )
        sent = MayorLetterSent(
            letter_id=letter.id,
            case_id=uuid.UUID(letter.case_id),
            team=letter.team,
            programme=letter.programme,
            district=letter.district,
            method=record.method,
            handed_to=record.handed_to,
            delivered_on=record.delivered_on,
            recorded_by=principal.sub,
            recorded_at=now,
        )
        event = uow.emit(sent)
        await self._dispatcher.publish_to_partners(uow, Cause.of(event), sent)
        return letter

    # --- retention and erasure ------------------------------------------------------------

    async def purge_expired(self, now: datetime) -> int:
        """Destroy the PDFs of letters not delivered within the retention period."""

        async def purge(uow: UnitOfWork) -> int:
            letters = LetterStore(uow)
            expired = await letters.past_retention(now)
            for letter in expired:
                letter.status = LetterStatus.EXPIRED
                letter.pdf = None
                letter.pdf_destroyed_at = now
                letter.history.append({"at": now, "status": "expired", "by": None})
                await letters.save(letter, expected_status=LetterStatus.READY)
                await AuditLog(uow).record(
                    AuditUser.system(),
                    Action.DELETE,
                    LETTER_RETENTION,
                    letter.person,
                    f"letter:{letter.id}",
                )
            return len(expired)

        purged = await self._transactions.run(purge)
        if purged:
            self._metrics.letters.labels("expired").inc(purged)
            log.info("undelivered letters destroyed after retention", extra={"count": purged})
        return purged

    async def erase_person(self, uow: UnitOfWork, pseudonym: str) -> list[Letter]:
        """AVG art. 17: the person's letters go, and the key of every copy of their PDFs.

        The processing log keeps its entries (a legal record of who read what; they
        name the pseudonym only, which nothing here links to anyone any more).
        Returns the cases the letters were about."""
        letters = LetterStore(uow)
        found = await letters.of_person(pseudonym)
        for letter in found:
            await AuditLog(uow).record(
                AuditUser(self._service_account),
                Action.DELETE,
                ERASURE_REQUEST,
                pseudonym,
                f"letter:{letter.id}",
            )
            await letters.delete(letter.id)
        await PersonKeys(uow, self._vault).destroy(pseudonym)
        if found:
            self._metrics.letters.labels("erased").inc(len(found))
        return found

    async def aclose(self) -> None:
        await self._client.aclose()


def reference(letter_id: uuid.UUID) -> str:
    """The letter's reference (kenmerk): a code, printed on it and shown in the app."""
    return f"BB-{letter_id.hex[:10].upper()}"


def _still_claimed(letter: Letter | None, lease_until: datetime) -> bool:
    return (
        letter is not None
        and letter.status is LetterStatus.REQUESTED
        and letter.next_attempt_at == lease_until
    )


async def run_letter_desk(runtime: ServiceRuntime) -> None:
    desk = runtime.get(LetterDesk)
    try:
        await desk.run()
    finally:
        with contextlib.suppress(Exception):
            await desk.aclose()


async def purge_expired_letters(runtime: ServiceRuntime, now: datetime) -> int:
    with processing_route("job:letter-retention"):
        return await runtime.get(LetterDesk).purge_expired(now)
