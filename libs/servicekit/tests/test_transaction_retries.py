"""A transient transaction error (a write conflict) runs the unit of work again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pymongo.errors import OperationFailure

from servicekit.clock import FixedClock
from servicekit.mongo import Mongo, Transactions

pytestmark = pytest.mark.integration


async def test_a_write_conflict_is_retried_and_counted(mongodb_url, database_name):
    mongo = Mongo(mongodb_url, database_name, timeout_ms=2000, app_name="kittest")
    reasons: list[str] = []

    async def no_outbox(uow) -> None:
        return None

    transactions = Transactions(
        mongo, FixedClock(datetime(2027, 1, 1, tzinfo=UTC)), no_outbox, lambda: None, reasons.append
    )
    attempts = 0

    async def work(uow) -> int:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise OperationFailure(
                "Write conflict during plan execution",
                112,
                {"codeName": "WriteConflict", "errorLabels": ["TransientTransactionError"]},
            )
        return attempts

    try:
        assert await transactions.run(work) == 2
    finally:
        await mongo.close()
    assert reasons == ["WriteConflict"]
