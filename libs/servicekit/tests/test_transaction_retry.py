"""A transient transaction error (a write conflict) runs the unit of work again."""

from __future__ import annotations

import pytest
from pymongo.errors import OperationFailure

from servicekit.clock import SystemClock
from servicekit.mongo import Mongo, Transactions, UnitOfWork

pytestmark = pytest.mark.integration


async def test_a_write_conflict_is_retried_and_counted_by_its_name(mongodb_url, database_name):
    mongo = Mongo(mongodb_url, database_name, timeout_ms=2000, app_name="test")
    retries: list[str] = []
    commits: list[int] = []

    async def no_outbox(uow: UnitOfWork) -> None:
        return None

    transactions = Transactions(
        mongo, SystemClock(), no_outbox, lambda: commits.append(1), on_retry=retries.append
    )
    runs = 0

    async def work(uow: UnitOfWork) -> int:
        nonlocal runs
        runs += 1
        await uow.db.things.insert_one({"run": runs}, session=uow.session)
        if runs == 1:
            raise OperationFailure(
                "WriteConflict error",
                112,
                {"codeName": "WriteConflict", "errorLabels": ["TransientTransactionError"]},
            )
        return runs

    try:
        assert await transactions.run(work) == 2
        assert retries == ["WriteConflict"] and commits == [1]
        assert [d["run"] for d in await mongo.db.things.find().to_list()] == [2], (
            "the first attempt left nothing behind"
        )
    finally:
        await mongo.db.client.drop_database(database_name)
        await mongo.close()
