"""Erasure of a person on request (AVG art. 17), starting here and reaching every service.

In one transaction: every signal about the person is deleted (nothing archived,
no per-signal events: the reports keep their figures), their archive record,
their lookup hashes, their identity and their wrapped data key (crypto-shredding:
every copy of their identity and descriptions, backups included, no longer
opens), their match group and case access; ``subject-erased`` is written to the
outbox, and the erasure register gets a record without any personal data (who
asked, on which legal ground, when, how many signals). Each other service
handles ``subject-erased`` for its own data; this one too, to remove the last
copies of the pseudonym in its outbox once the event has gone out.

A person is identified as at intake: by BSN (which decides), or by name + date
of birth + postcode + house number. A person whose signals all expired is known
to the archive only (their cases may live on in the cases service): the archive
record goes and ``subject-erased`` names its pseudonym. An unknown person is not
an error of the system: nothing is held about them, and the API says so (404).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from buurtsignaal_contracts.events import SubjectErased
from servicekit.audit import Action, AuditLog, AuditUser
from servicekit.erasure import forget_mentions
from servicekit.mongo import IndexSpec, UnitOfWork
from signals_service.domain.identity import PersonIdentity
from signals_service.matcher import Matcher
from signals_service.persons import PersonRegistry
from signals_service.processing import ERASURE_REQUEST
from signals_service.store import ArchiveStore, PersonStore, SignalStore

ERASURES = "erasures"
INDEXES = [IndexSpec(ERASURES, [("erased_at", -1)])]


class ErasureGround(StrEnum):
    """The grounds of AVG art. 17(1) (and an order), as codes."""

    NO_LONGER_NECESSARY = "no-longer-necessary"  # art. 17(1)(a)
    CONSENT_WITHDRAWN = "consent-withdrawn"  # (b)
    OBJECTION = "objection"  # (c)
    UNLAWFUL_PROCESSING = "unlawful-processing"  # (d)
    LEGAL_OBLIGATION = "legal-obligation"  # (e)
    COURT_ORDER = "court-order"


@dataclass(frozen=True)
class ErasureRequest:
    """Who asks, on which ground, under which reference of the request (a code)."""

    ground: ErasureGround
    reference: str | None
    requested_by: str
    org: str | None


@dataclass(frozen=True)
class Erasure:
    erasure_id: uuid.UUID
    erased_at: datetime
    signals_removed: int


def subject_keys(
    bsn: str | None,
    given_name: str | None,
    family_name: str | None,
    date_of_birth: date | None,
    postcode: str | None,
    house_number: str | None,
) -> list[str]:
    """The plain keys a person is searched by: the BSN decides when it is given."""
    if bsn:
        return [f"bsn:{bsn}"]
    assert date_of_birth is not None
    identity = PersonIdentity(
        date_of_birth=date_of_birth,
        given_name=given_name,
        family_name=family_name,
        postcode=postcode,
        house_number=house_number,
    )
    return identity.matching_keys()


class PersonErasure:
    def __init__(self, persons: PersonRegistry, matcher: Matcher) -> None:
        self._persons = persons
        self._matcher = matcher

    async def erase(
        self, uow: UnitOfWork, plain_keys: list[str], request: ErasureRequest
    ) -> Erasure | None:
        """Erase the person these keys find; None when nobody is held by them."""
        hashes = self._persons.hashes_of(plain_keys)
        found = await PersonStore(uow).find_all_by_lookup(hashes)
        archived = await ArchiveStore(uow).find_by_lookup(hashes)
        if not found and not archived:
            return None
        now = uow.clock.now()
        removed: list[str] = []
        if found:
            person = found[0]  # a hash belongs to one person; BSN or name+address, not both
            pseudonym = person["pseudonym"]
            removed = await self._remove_signals(uow, person["_id"], now)
            known_by = await self._persons.known_by(uow, person)
            await ArchiveStore(uow).delete_for(person["_id"], known_by)
            forgotten = await self._persons.forget_if_unreferenced(
                uow, person["_id"], ERASURE_REQUEST
            )
            assert forgotten, "every signal about the person was deleted in this transaction"
        else:
            # Only the archive knows them (their signals expired), but their cases may
            # still be open elsewhere: the archive's pseudonym tells the others whom.
            pseudonym = archived[0]["person"]
            await ArchiveStore(uow).delete_for(archived[0]["_id"], hashes)
        return await self._announce(uow, pseudonym, removed, request, now)

    async def _announce(
        self,
        uow: UnitOfWork,
        pseudonym: str,
        removed: list[str],
        request: ErasureRequest,
        now: datetime,
    ) -> Erasure:
        """Tell every service, keep the proof, and forget what the outbox said of them."""
        erasure_id = uuid.uuid4()
        await AuditLog(uow).record(
            AuditUser(request.requested_by, request.org),
            Action.DELETE,
            ERASURE_REQUEST,
            pseudonym,
            f"erasure:{erasure_id}",
        )
        uow.emit(SubjectErased(erasure_id=erasure_id, person=pseudonym, erased_at=now))
        await forget_mentions(uow, pseudonym, *removed)
        await uow.db[ERASURES].insert_one(
            _register_entry(erasure_id, request, now, len(removed)), session=uow.session
        )
        return Erasure(erasure_id, now, len(removed))

    async def _remove_signals(self, uow: UnitOfWork, person_id: str, now: datetime) -> list[str]:
        signals = SignalStore(uow)
        removed = await signals.of_person(person_id)
        for signal in removed:
            await signals.delete(signal.id)
            await self._matcher.after_removal(uow, signal, now.date())
        return [str(signal.id) for signal in removed]


def _register_entry(
    erasure_id: uuid.UUID, request: ErasureRequest, at: datetime, removed: int
) -> dict[str, Any]:
    """The erasure register: proof that it was done, naming nobody."""
    return {
        "_id": str(erasure_id),
        "erased_at": at,
        "ground": request.ground.value,
        "reference": request.reference,
        "requested_by": request.requested_by,
        "org": request.org,
        "signals_removed": removed,
    }


async def finish_erasure(uow: UnitOfWork, pseudonym: str, event_id: str) -> int:
    """The ``subject-erased`` event has gone out: its outbox record (and any other
    record naming the pseudonym that was still waiting then) can go too."""
    return await forget_mentions(uow, pseudonym, received=event_id)
