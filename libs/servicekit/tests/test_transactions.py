"""Units of work on the database stand-in: conflicts are retried, failures roll back."""

from __future__ import annotations

import asyncio

import pytest
from pymongo.errors import OperationFailure

from servicekit.clock import SystemClock
from servicekit.mongo import Mongo, Transactions, UnitOfWork
from servicekit.outbox import write_outbox

pytestmark = pytest.mark.integration


@pytest.fixture
async def transactions(mongodb_url, database_name):
    mongo = Mongo(mongodb_url, database_name, timeout_ms=2000, app_name="test")
    retries: list[str] = []
    runner = Transactions(mongo, SystemClock(), write_outbox, lambda: None, on_retry=retries.append)
    runner.retries = retries  # type: ignore[attr-defined]
    yield runner
    await mongo.close()


async def test_concurrent_writes_to_one_document_are_retried_until_all_count(transactions):
    async def increment(uow: UnitOfWork) -> None:
        counter = await uow.db.counters.find_one({"_id": "c"}, session=uow.session) or {"n": 0}
        await asyncio.sleep(0.01)  # widen the window so the transactions overlap
        await uow.db.counters.replace_one(
            {"_id": "c"}, {"n": counter["n"] + 1}, upsert=True, session=uow.session
        )

    await asyncio.gather(*(transactions.run(increment) for _ in range(5)))

    async def read(uow: UnitOfWork) -> dict:
        return await uow.db.counters.find_one({"_id": "c"}, session=uow.session)

    assert (await transactions.run(read))["n"] == 5
    assert transactions.retries, "the overlapping transactions conflicted and were retried"
    assert set(transactions.retries) <= {"WriteConflict", "transient"}


async def test_a_failing_unit_of_work_leaves_nothing(transactions):
    async def half_done(uow: UnitOfWork) -> None:
        await uow.db.things.insert_one({"_id": "t"}, session=uow.session)
        raise ValueError("second half fails")

    with pytest.raises(ValueError):
        await transactions.run(half_done)

    async def count(uow: UnitOfWork) -> int:
        return await uow.db.things.count_documents({}, session=uow.session)

    assert await transactions.run(count) == 0


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
