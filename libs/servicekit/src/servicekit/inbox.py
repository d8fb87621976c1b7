"""Inbox: makes every consumer idempotent.

The id of each handled event is stored in the same transaction as the
handler's effect. A redelivered event finds its id there and changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from buurtsignaal_contracts import CloudEvent
from pymongo.errors import DuplicateKeyError

from servicekit.mongo import RetryTransaction, Transactions, UnitOfWork

INBOX = "inbox"


class Inbox:
    def __init__(self, consumer: str, transactions: Transactions) -> None:
        self._consumer = consumer
        self._transactions = transactions

    async def process(
        self, event: CloudEvent[Any], handle: Callable[[UnitOfWork], Awaitable[None]]
    ) -> bool:
        """Apply ``handle`` once per event id; False when it was applied before."""

        async def work(uow: UnitOfWork) -> bool:
            if not await self._claim(uow, event):
                return False
            await handle(uow)
            return True

        return await self._transactions.run(work, causation_id=str(event.id))

    async def _claim(self, uow: UnitOfWork, event: CloudEvent[Any]) -> bool:
        key = f"{self._consumer}:{event.id}"
        inbox = uow.db[INBOX]
        if await inbox.find_one({"_id": key}, {"_id": 1}, session=uow.session):
            return False
        try:
            await inbox.insert_one(
                {"_id": key, "type": event.type, "handled_at": uow.clock.now()},
                session=uow.session,
            )
        except DuplicateKeyError as race:
            # The same event is being handled concurrently (published twice):
            # start over, and the check above will see the other one's claim.
            raise RetryTransaction from race
        return True
