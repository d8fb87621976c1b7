"""Inbox: makes every consumer idempotent.

The id of each handled event is stored in the same transaction as the
handler's effect. A redelivered event finds its id there and changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pymongo.errors import DuplicateKeyError

from buurtsignaal_contracts import CloudEvent
from servicekit.mongo import Transactions, UnitOfWork

INBOX = "inbox"


class AlreadyHandled(Exception):
    """The event's id is in the inbox: its effect exists already."""


class Inbox:
    def __init__(self, consumer: str, transactions: Transactions) -> None:
        self._consumer = consumer
        self._transactions = transactions

    async def process(
        self, event: CloudEvent[Any], handle: Callable[[UnitOfWork], Awaitable[None]]
    ) -> bool:
        """Apply ``handle`` once per event id; False when it was applied before."""

        async def work(uow: UnitOfWork) -> bool:
            await self._claim(uow, event)
            await handle(uow)
            return True

        try:
            return await self._transactions.run(work, causation_id=str(event.id))
        except AlreadyHandled:
            return False

    async def _claim(self, uow: UnitOfWork, event: CloudEvent[Any]) -> None:
        """Insert the event's id first: one round trip, and a duplicate stops everything."""
        try:
            await uow.db[INBOX].insert_one(
                {
                    "_id": f"{self._consumer}:{event.id}",
                    "type": event.type,
                    "handled_at": uow.clock.now(),
                },
                session=uow.session,
            )
        except DuplicateKeyError as seen:
            # Handled before (the transaction aborts, nothing of it stays), or
            # being handled right now by a concurrent delivery of the same event,
            # which then commits or fails and is redelivered: either way not here.
            raise AlreadyHandled from seen
