"""Rebuild the projection by replaying the archive stream into a fresh database.

    python -m reporting_service rebuild [--database NAME] [--replace]

The replay runs every archived event through the same handlers and the same
inbox as the live service, so it ends with the same facts: duplicates in the
archive (an outbox may publish twice) are recognised by their event id, and
events of other services that reporting does not handle are skipped.

To replace the live projection without losing or double-counting an event:
stop the reporting service (its queue keeps collecting events), rebuild into a
fresh database, start the service on it (``MONGODB_DATABASE``). Events in the
queue that the replay already had are recognised by the rebuilt inbox; the
others are counted then.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from tqdm import tqdm

from buurtsignaal_contracts import CloudEvent
from reporting_service import store
from reporting_service.app import placing
from reporting_service.handlers import ROUTERS
from reporting_service.settings import ReportingSettings
from servicekit import outbox
from servicekit.archive import ArchiveProgress, read_archive
from servicekit.clock import SystemClock
from servicekit.inbox import INBOX, Inbox
from servicekit.messaging import Dependencies, Registration
from servicekit.mongo import Mongo, Transactions, UnitOfWork
from servicekit.transport import amqp_ssl_context

log = logging.getLogger(__name__)

CONSUMER = "reporting"  # the live service's inbox name: the rebuilt inbox must be its


class TargetNotEmpty(Exception):
    """The database already holds a projection; pass replace=True to drop it."""


@dataclass
class RebuildResult:
    database: str
    read: int = 0
    applied: int = 0
    duplicates: int = 0
    skipped_types: Counter[str] = field(default_factory=Counter)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (event id, reason)
    totals: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [
            f"rebuilt projection in database {self.database!r}",
            f"  archived messages read: {self.read}",
            f"  events applied:         {self.applied}",
            f"  duplicates recognised:  {self.duplicates}",
            f"  not for reporting:      {sum(self.skipped_types.values())}",
            f"  failed:                 {len(self.failed)}",
        ]
        lines += [f"    {event_id}: {reason}" for event_id, reason in self.failed[:20]]
        lines.append("  figures (sum over all days):")
        lines += [f"    {name:<22} {value}" for name, value in sorted(self.totals.items())]
        return "\n".join(lines)


async def rebuild(
    settings: ReportingSettings,
    *,
    database: str | None = None,
    replace: bool = False,
    show_progress: bool = True,
    prefetch: int = 200,
) -> RebuildResult:
    target = database or settings.mongodb_database
    mongo = Mongo.from_settings(settings, app_name="reporting-rebuild", database=target)
    try:
        await _prepare(mongo, replace)
        transactions = Transactions(mongo, SystemClock(), outbox.write_outbox, lambda: None)
        result = RebuildResult(target)
        await _replay(settings, transactions, result, show_progress, prefetch)
        result.totals = await transactions.run(_totals)
        return result
    finally:
        await mongo.close()


async def _prepare(mongo: Mongo, replace: bool) -> None:
    existing = set(await mongo.db.list_collection_names())
    if existing & {*store.PROJECTION, INBOX}:
        if not replace:
            raise TargetNotEmpty(f"database {mongo.db.name!r} holds a projection")
        for name in (*store.PROJECTION, INBOX):
            await mongo.db.drop_collection(name)
    await mongo.ensure_indexes(store.INDEXES)


async def _replay(
    settings: ReportingSettings,
    transactions: Transactions,
    result: RebuildResult,
    show_progress: bool,
    prefetch: int,
) -> None:
    handlers = {r.model.event_type(): r for router in ROUTERS for r in router.registrations}
    dependencies = Dependencies(settings, placing(settings))
    inbox = Inbox(CONSUMER, transactions)
    progress = ArchiveProgress()
    bar = tqdm(desc="replaying archive", unit="event", disable=not show_progress)
    try:
        async for message in read_archive(
            settings.amqp_url.get_secret_value(),
            prefetch=prefetch,
            progress=progress,
            ssl_context=amqp_ssl_context(settings),
        ):
            if bar.total is None and progress.total is not None:
                bar.total = progress.total
                bar.refresh()
            result.read += 1
            registration = handlers.get(message.event_type)
            if registration is None:
                result.skipped_types[message.event_type] += 1
            else:
                await _apply(registration, message.body, inbox, dependencies, result)
            bar.update(1)
    finally:
        bar.close()


async def _apply(
    registration: Registration,
    body: bytes,
    inbox: Inbox,
    dependencies: Dependencies,
    result: RebuildResult,
) -> None:
    try:
        event = CloudEvent[registration.model].model_validate_json(body)  # type: ignore[name-defined]
    except ValidationError:
        result.failed.append(("?", "not a valid event of its type"))
        return
    injected = {n: dependencies.get(t) for n, t in registration.injected.items()}

    async def handle(uow: UnitOfWork) -> None:
        await registration.handler(event, uow, **injected)

    try:
        applied = await inbox.process(event, handle)
    except store.NotYetProjected as missing:
        # In the archive an event always follows the ones it refers to, unless
        # retention has cut the stream's beginning: then say so, do not guess.
        result.failed.append((str(event.id), f"refers to {missing} that is not in the archive"))
        return
    if applied:
        result.applied += 1
    else:
        result.duplicates += 1


async def _totals(uow: UnitOfWork) -> dict[str, int]:
    cursor = await uow.db[store.FACTS].aggregate(
        [{"$group": {"_id": "$measure", "value": {"$sum": "$value"}}}, {"$sort": {"_id": 1}}],
        session=uow.session,
    )
    return {row["_id"]: row["value"] for row in await cursor.to_list()}


def run_rebuild(args: Any) -> int:
    settings = ReportingSettings()
    try:
        result = asyncio.run(
            rebuild(
                settings,
                database=args.database,
                replace=args.replace,
                show_progress=not args.no_progress,
                prefetch=args.prefetch,
            )
        )
    except TargetNotEmpty as error:
        print(f"refused: {error}; give --replace to drop it, or another --database")
        return 2
    print(result.summary())
    return 1 if result.failed else 0
