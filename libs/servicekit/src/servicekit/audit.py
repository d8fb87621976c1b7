"""The processing log (audit log) every service writes: NEN 7513 / VNG verwerkingenlogging.

Every read and write of personal data writes one record per person and record
touched, **in the transaction of the read or write itself**: a change without
its record is never committed, and a read whose record cannot be written fails
(503, :class:`AuditUnavailable`) instead of returning data.

A record holds: the action (read/create/update/delete), the processing activity
with its data categories, confidentiality and retention period, the user, their
organisation and on whose behalf they acted, the time, the person's pseudonym
(never a name or BSN), what was processed, and the correlation id, service and
route of the request or event. For every person touched, the same transaction
emits ``personal-data-processed`` through the outbox, so the person's access
trail can be collected across services.

Append-only and tamper-evident: a hash chain. Records are written unsealed and
a sealer in every service (:func:`run_sealer`) numbers them (``seq``) and links
each to the hash of the one before, in one transaction with the chain's head.
Chaining inline would make every transaction that touches personal data write
the head document, so concurrent requests of a service would all conflict with
each other (measured in ``bench/audit_chain.py``). :func:`verify_chain` walks the
chain and names the first record that was changed, removed or moved.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from buurtsignaal_contracts.codes import Confidentiality, DataCategory, ProcessingAction
from buurtsignaal_contracts.events import personal_data_processed
from servicekit import logs
from servicekit.authz import Access
from servicekit.mongo import DatabaseUnavailable, IndexSpec, Transactions, UnitOfWork

if TYPE_CHECKING:
    from servicekit.auth import Principal

log = logging.getLogger(__name__)

AUDIT_LOG = "audit_log"
AUDIT_CHAIN = "audit_chain"
HEAD = "head"
GENESIS = "0" * 64
SEAL_BATCH = 500

INDEXES = [
    IndexSpec(AUDIT_LOG, [("seq", 1)], name="chain_order"),
    IndexSpec(AUDIT_LOG, [("person", 1), ("at", 1)], name="by_person"),
    IndexSpec(AUDIT_CHAIN, [("seq", 1)]),  # creates the collection at start-up
]

Action = ProcessingAction

_USER_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class AuditUnavailable(DatabaseUnavailable):
    """The audit record could not be written: the read or write must not happen."""


@dataclass(frozen=True)
class Activity:
    """A processing activity of the register (*verwerkingsactiviteit*)."""

    code: str
    categories: tuple[DataCategory, ...]
    confidentiality: Confidentiality = Confidentiality.CONFIDENTIAL
    retention: str = "P5Y"  # how long the audit record is kept (NEN 7513: at least 5 years)


@dataclass(frozen=True)
class AuditUser:
    """Who processed: an account, its organisation, and whom it acted for."""

    user: str
    org: str | None = None
    on_behalf_of: str | None = None

    @classmethod
    def of(cls, caller: Principal | Access, on_behalf_of: str | None = None) -> AuditUser:
        """The caller of a request, as a token's principal or as the access the matrix
        granted them (routes get either)."""
        principal = caller.principal if isinstance(caller, Access) else caller
        return cls(principal.sub, principal.org, on_behalf_of)

    @classmethod
    def system(cls, on_behalf_of: str | None = None) -> AuditUser:
        """The service itself (an event handler or a scheduled job)."""
        return cls("system", None, on_behalf_of)


# --- where a processing came in: set by the HTTP middleware and the consumer ------

_request_scope: ContextVar[dict[str, Any] | None] = ContextVar("audit_scope", default=None)
_route: ContextVar[str] = ContextVar("audit_route", default="job:unnamed")


def bind_request(scope: dict[str, Any]) -> Any:
    """Remember the ASGI scope; the router fills in the route template later."""
    return _request_scope.set(scope)


def unbind_request(token: Any) -> None:
    _request_scope.reset(token)


@contextlib.contextmanager
def processing_route(route: str) -> Iterator[None]:
    """Name where processing outside a request comes from: ``event:<key>``, ``job:<name>``."""
    scope_token = _request_scope.set(None)
    token = _route.set(route)
    try:
        yield
    finally:
        _route.reset(token)
        _request_scope.reset(scope_token)


def current_route() -> str:
    scope = _request_scope.get()
    if scope is None:
        return _route.get()
    route = scope.get("route")
    return f"{scope.get('method', 'GET')}:{getattr(route, 'path', 'unmatched')}"


# --- writing -----------------------------------------------------------------------


class AuditLog:
    """Writes audit records and their events in the caller's unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def record(
        self,
        by: AuditUser,
        action: Action,
        activity: Activity,
        person: str | None,
        record: str,
    ) -> None:
        await self.record_many(by, action, activity, [(person, record)])

    async def record_many(
        self,
        by: AuditUser,
        action: Action,
        activity: Activity,
        records: Sequence[tuple[str | None, str]],
    ) -> None:
        """One record per (person, record) touched by one act; one event per person."""
        if not records:
            return
        uow = self._uow
        at = _millis(uow.clock.now())
        correlation = logs.correlation_id.get() or str(uuid.uuid4())
        route = current_route()
        per_person: dict[str | None, str] = {}
        documents = []
        for person, record in records:
            processing_id = per_person.setdefault(person, str(uuid.uuid4()))
            documents.append(
                {
                    "_id": str(uuid.uuid4()),
                    "processing_id": processing_id,
                    "at": at,
                    "service": uow.service,
                    "action": action.value,
                    "activity": activity.code,
                    "categories": [c.value for c in activity.categories],
                    "confidentiality": activity.confidentiality.value,
                    "retention": activity.retention,
                    "user": by.user,
                    "org": by.org,
                    "on_behalf_of": by.on_behalf_of,
                    "person": person,
                    "record": record,
                    "correlation_id": correlation,
                    "route": route,
                    "seq": None,  # set by the sealer
                    "prev": None,
                    "hash": None,
                }
            )
        try:
            await uow.db[AUDIT_LOG].insert_many(documents, session=uow.session)
        except PyMongoError as error:
            if error.has_error_label("TransientTransactionError"):
                raise  # a conflict: the transaction runs again
            raise AuditUnavailable(f"audit record not written: {type(error).__name__}") from error
        self._emit(by, action, activity, at, route, per_person, documents)

    def _emit(
        self,
        by: AuditUser,
        action: Action,
        activity: Activity,
        at: datetime,
        route: str,
        per_person: dict[str | None, str],
        documents: list[dict[str, Any]],
    ) -> None:
        model = personal_data_processed(self._uow.service)
        if model is None:
            return
        for person, processing_id in per_person.items():
            if person is None:
                continue
            self._uow.emit(
                model(
                    processing_id=uuid.UUID(processing_id),
                    person=person,
                    action=action,
                    activity=activity.code,
                    user=_user_ref(by.user),
                    organisation=by.org if by.org and _CODE.match(by.org) else None,
                    on_behalf_of=_user_ref(by.on_behalf_of) if by.on_behalf_of else None,
                    at=at,
                    categories=list(activity.categories),
                    confidentiality=activity.confidentiality,
                    retention=activity.retention,
                    records=[d["record"] for d in documents if d["person"] == person],
                    route=route,
                )
            )


def _user_ref(user: str) -> str:
    # Tokens' subjects are account ids; one that is not (an e-mail address, say)
    # travels as a keyless digest so the event never carries it.
    if _USER_REF.match(user):
        return user
    return "u-" + hashlib.sha256(user.encode()).hexdigest()[:24]


def _millis(moment: datetime) -> datetime:
    # MongoDB keeps milliseconds: hash what is stored, not what was meant.
    return moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)


# --- the chain ---------------------------------------------------------------------


def record_hash(document: dict[str, Any]) -> str:
    """SHA-256 over every field of the record but its own hash (including seq and prev)."""
    content = {k: v for k, v in document.items() if k != "hash"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=_canonical)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds")
    return str(value)


async def seal_pending(transactions: Transactions, limit: int = SEAL_BATCH) -> int:
    """Chain unsealed records (oldest first) after the head; returns how many were sealed.

    One transaction with the head: two sealers at once (two replicas) conflict on
    it and one runs again after the other, so no number is given twice.
    """

    async def seal(uow: UnitOfWork) -> int:
        audit, chain = uow.db[AUDIT_LOG], uow.db[AUDIT_CHAIN]
        head = await chain.find_one({"_id": HEAD}, session=uow.session)
        seq, prev = (head["seq"], head["hash"]) if head else (0, GENESIS)
        cursor = audit.find({"seq": None}, session=uow.session).sort([("at", 1), ("_id", 1)])
        pending = await cursor.limit(limit).to_list()
        updates = []
        for document in pending:
            seq += 1
            document.update(seq=seq, prev=prev)
            prev = record_hash(document)
            updates.append(
                UpdateOne(
                    {"_id": document["_id"], "seq": None},
                    {"$set": {"seq": seq, "prev": document["prev"], "hash": prev}},
                )
            )
        if pending:
            await audit.bulk_write(updates, ordered=True, session=uow.session)
            await chain.update_one(
                {"_id": HEAD},
                {"$set": {"seq": seq, "hash": prev, "sealed_at": uow.clock.now()}},
                upsert=True,
                session=uow.session,
            )
        return len(pending)

    return await transactions.run(seal)


async def run_sealer(transactions: Transactions, interval: float) -> None:
    """Background task: seal what is pending, then wait ``interval`` seconds."""
    while True:
        try:
            while await seal_pending(transactions) == SEAL_BATCH:
                pass
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database is away; the next round catches up
            log.warning("audit sealer failed; will retry", extra={"error": type(error).__name__})
        await asyncio.sleep(interval)


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    record_id: str | None
    reason: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    unsealed: int
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


async def verify_chain(db: AsyncDatabase[dict[str, Any]]) -> ChainReport:
    """Walk the chain in order; report the first record that does not fit."""
    expected, prev, checked = 1, GENESIS, 0
    cursor = db[AUDIT_LOG].find({"seq": {"$gt": 0}}).sort("seq", 1)
    async for document in cursor:
        problem = _check(document, expected, prev)
        if problem is not None:
            return await _report(db, checked, problem)
        prev, expected, checked = document["hash"], expected + 1, checked + 1
    head = await db[AUDIT_CHAIN].find_one({"_id": HEAD})
    last = expected - 1
    problem = None
    if head is None and last > 0:
        problem = ChainBreak(last, None, "the chain's head is missing")
    elif head is not None and head["seq"] > last:
        problem = ChainBreak(
            last + 1, None, f"records {last + 1} to {head['seq']} are missing (deleted at the end)"
        )
    elif head is not None and head["hash"] != prev:
        problem = ChainBreak(last, None, "the last record does not match the chain's head")
    return await _report(db, checked, problem)


def _check(document: dict[str, Any], expected: int, prev: str) -> ChainBreak | None:
    seq, record_id = document["seq"], str(document["_id"])
    if seq > expected:
        return ChainBreak(
            expected, None, f"record {expected} is missing (next is {seq}: {record_id})"
        )
    if seq < expected:
        return ChainBreak(seq, record_id, f"sequence number {seq} appears more than once")
    if document.get("prev") != prev:
        return ChainBreak(
            seq, record_id, f"does not follow record {seq - 1}: records were moved or replaced"
        )
    if record_hash(document) != document.get("hash"):
        return ChainBreak(seq, record_id, "its content does not match its hash: it was altered")
    return None


async def _report(
    db: AsyncDatabase[dict[str, Any]], checked: int, broken: ChainBreak | None
) -> ChainReport:
    unsealed = await db[AUDIT_LOG].count_documents({"seq": None})
    return ChainReport(checked, unsealed, broken)
