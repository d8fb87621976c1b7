"""MongoDB access through PyMongo's async API, and units of work in transactions.

Every state change of a service runs in :meth:`Transactions.run`: one MongoDB
transaction that holds the change, the inbox record of the event that caused
it (if any) and the outbox records of the events it causes. Either all of it
is committed or none of it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    ConnectionFailure,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)

from buurtsignaal_contracts import CloudEvent, EventData, new_event
from servicekit import logs
from servicekit.clock import Clock
from servicekit.settings import ServiceSettings
from servicekit.transport import mongo_tls_options

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_TRANSACTION_ATTEMPTS = 6
CONNECT_TIMEOUT_MS = 10_000


class DatabaseUnavailable(Exception):
    """The database cannot do the work now; the caller should answer 503 or retry later."""


class DatabaseUnreachable(DatabaseUnavailable):
    """The database did not answer at all (down, restarting, network away): an outage,
    not a conflict. Consumers hold their message until it answers again."""


class TransactionConflicted(DatabaseUnavailable):
    """The transaction kept conflicting: with a busy neighbour, or with one a killed
    process left open until the database aborts it (60 s in MongoDB)."""


class RetryTransaction(Exception):
    """Raised inside a unit of work to run it again from the start."""


@dataclass(frozen=True)
class IndexSpec:
    collection: str
    keys: list[tuple[str, int]]
    unique: bool = False
    name: str | None = None
    expire_after_seconds: int | None = None
    partial_filter: dict[str, Any] | None = None

    def options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"unique": self.unique}
        if self.name:
            options["name"] = self.name
        if self.expire_after_seconds is not None:
            options["expireAfterSeconds"] = self.expire_after_seconds
        if self.partial_filter is not None:
            options["partialFilterExpression"] = self.partial_filter
        return options


class Mongo:
    """One client and one database per service process."""

    def __init__(
        self,
        url: str,
        database: str,
        *,
        timeout_ms: int,
        app_name: str,
        tls: dict[str, Any] | None = None,
    ) -> None:
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url,
            tz_aware=True,
            uuidRepresentation="standard",
            serverSelectionTimeoutMS=timeout_ms,
            # Not the request timeout: the driver's monitor uses it for its checks, and a
            # busy database answering a check slowly must not count as gone (it clears
            # the pool and fails everything). A stopped one refuses at once anyway.
            connectTimeoutMS=max(timeout_ms, CONNECT_TIMEOUT_MS),
            appname=app_name,
            **(tls or {}),
        )
        self.db: AsyncDatabase[dict[str, Any]] = self.client[database]

    @classmethod
    def from_settings(
        cls, settings: ServiceSettings, *, app_name: str, database: str | None = None
    ) -> Mongo:
        """The service's database as its settings describe it, TLS included."""
        return cls(
            settings.mongodb_url.get_secret_value(),
            database or settings.mongodb_database,
            timeout_ms=settings.mongodb_timeout_ms,
            app_name=app_name,
            tls=mongo_tls_options(settings),
        )

    async def ensure_indexes(self, specs: Iterable[IndexSpec]) -> None:
        for spec in specs:
            await self.db[spec.collection].create_index(spec.keys, **spec.options())

    async def ping(self) -> bool:
        try:
            await self.client.admin.command("ping")
        except PyMongoError:
            return False
        return True

    async def close(self) -> None:
        await self.client.close()


@dataclass
class UnitOfWork:
    """One transaction: the session to pass to every call, and the events it causes."""

    db: AsyncDatabase[dict[str, Any]]
    session: AsyncClientSession
    clock: Clock
    causation_id: str | None = None
    events: list[CloudEvent[Any]] = field(default_factory=list)
    service: str = ""  # whose database: names the service in audit records

    def emit(self, data: EventData) -> CloudEvent[Any]:
        """Record an event to publish once (and only if) this transaction commits."""
        event = new_event(
            data,
            correlation_id=logs.correlation_id.get(),
            causation_id=self.causation_id,
            time=self.clock.now(),
        )
        self.events.append(event)
        return event


class Transactions:
    """Runs units of work, retrying what MongoDB says is transient."""

    def __init__(
        self,
        mongo: Mongo,
        clock: Clock,
        write_outbox: Callable[[UnitOfWork], Awaitable[None]],
        after_commit: Callable[[], None],
        on_retry: Callable[[str], None] = lambda reason: None,
        service: str = "",
    ) -> None:
        self._mongo = mongo
        self._service = service
        self._clock = clock
        self._write_outbox = write_outbox
        self._after_commit = after_commit
        self._on_retry = on_retry

    async def run(
        self,
        work: Callable[[UnitOfWork], Awaitable[T]],
        *,
        causation_id: str | None = None,
    ) -> T:
        """Run ``work`` in a transaction; publish its events after the commit.

        ``work`` may run more than once (after a write conflict), so it must
        not have effects outside the database.
        """
        for attempt in range(1, MAX_TRANSACTION_ATTEMPTS + 1):
            try:
                result = await self._attempt(work, causation_id)
            except RetryTransaction:
                self._on_retry("retry-requested")
            except OperationFailure as error:
                if not error.has_error_label("TransientTransactionError"):
                    raise
                self._on_retry(str((error.details or {}).get("codeName") or "transient"))
            except (ServerSelectionTimeoutError, ConnectionFailure) as error:
                raise DatabaseUnreachable(type(error).__name__) from error
            else:
                self._after_commit()
                return result
            await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)
        raise TransactionConflicted(f"transaction conflicted {MAX_TRANSACTION_ATTEMPTS} times")

    async def _attempt(
        self, work: Callable[[UnitOfWork], Awaitable[T]], causation_id: str | None
    ) -> T:
        async with self._mongo.client.start_session() as session:
            async with await session.start_transaction():
                uow = UnitOfWork(
                    self._mongo.db, session, self._clock, causation_id, service=self._service
                )
                result = await work(uow)
                await self._write_outbox(uow)
            return result
