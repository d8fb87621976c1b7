"""The audit log on the database stand-in: records and their events in the caller's
transaction, a hash chain that the sealer builds in order, and a verification that
names the first record that was changed, removed or moved."""

from __future__ import annotations

import asyncio

import pytest

from buurtsignaal_contracts.codes import Confidentiality, DataCategory
from servicekit import audit
from servicekit.audit import Action, Activity, AuditLog, AuditUser, seal_pending, verify_chain
from servicekit.cli import main as cli
from servicekit.clock import SystemClock
from servicekit.mongo import Mongo, Transactions, UnitOfWork
from servicekit.outbox import write_outbox

pytestmark = pytest.mark.integration

CASEWORK = Activity("casework", (DataCategory.CASE_FACTS,), Confidentiality.CONFIDENTIAL, "P5Y")
WORKER = AuditUser("w-west-1", "wijkteam-west", None)
PERSON = "ps-" + "a" * 32


@pytest.fixture
async def mongo(mongodb_url, database_name):
    mongo = Mongo(mongodb_url, database_name, timeout_ms=2000, app_name="test")
    await mongo.ensure_indexes(audit.INDEXES)
    yield mongo
    await mongo.close()


@pytest.fixture
def transactions(mongo):
    return Transactions(mongo, SystemClock(), write_outbox, lambda: None, service="cases")


async def write_records(transactions, count: int, person: str = PERSON) -> None:
    for n in range(count):

        async def work(uow: UnitOfWork, n: int = n) -> None:
            await AuditLog(uow).record(WORKER, Action.READ, CASEWORK, person, f"case:c-{n}")

        await transactions.run(work)


async def test_a_record_and_its_event_are_written_in_the_callers_transaction(transactions, mongo):
    async def read(uow: UnitOfWork) -> None:
        await AuditLog(uow).record_many(
            WORKER, Action.READ, CASEWORK, [(PERSON, "case:c-1"), (PERSON, "case:c-2")]
        )

    with audit.processing_route("job:test"):
        await transactions.run(read)
    records = await mongo.db.audit_log.find().sort("record", 1).to_list()
    assert [r["record"] for r in records] == ["case:c-1", "case:c-2"]
    first = records[0]
    assert {k: first[k] for k in ("service", "action", "activity", "user", "org", "person")} == {
        "service": "cases",
        "action": "read",
        "activity": "casework",
        "user": "w-west-1",
        "org": "wijkteam-west",
        "person": PERSON,
    }
    assert first["categories"] == ["case-facts"] and first["confidentiality"] == "confidential"
    assert first["retention"] == "P5Y" and first["route"] == "job:test"
    assert first["correlation_id"] and first["seq"] is None, "sealed later, by the sealer"
    (event,) = await mongo.db.outbox.find().to_list()
    assert event["type"] == "nl.buurtsignaal.cases.personal-data-processed.v1"
    assert b'"records":["case:c-1","case:c-2"]' in event["body"], "one event per person"


async def test_a_failing_unit_of_work_leaves_no_record(transactions, mongo):
    async def fails(uow: UnitOfWork) -> None:
        await AuditLog(uow).record(WORKER, Action.UPDATE, CASEWORK, PERSON, "case:c-1")
        raise ValueError("the change fails")

    with pytest.raises(ValueError):
        await transactions.run(fails)
    assert await mongo.db.audit_log.count_documents({}) == 0


async def test_concurrent_writers_and_two_sealers_give_one_gapless_chain(transactions, mongo):
    writers = [write_records(transactions, 10, f"ps-{n:032x}") for n in range(5)]
    sealers = [seal_pending(transactions, limit=7) for _ in range(4)]
    await asyncio.gather(*writers, *sealers)
    while await seal_pending(transactions):
        pass
    sequence = [r["seq"] for r in await mongo.db.audit_log.find().sort("seq", 1).to_list()]
    assert sequence == list(range(1, 51))
    report = await verify_chain(mongo.db)
    assert (report.intact, report.checked, report.unsealed) == (True, 50, 0)


async def sealed_chain(transactions, mongo, count: int = 6) -> list[dict]:
    await write_records(transactions, count)
    await seal_pending(transactions)
    assert (await verify_chain(mongo.db)).intact
    return await mongo.db.audit_log.find().sort("seq", 1).to_list()


async def test_a_changed_field_is_detected_and_named(transactions, mongo):
    records = await sealed_chain(transactions, mongo)
    await mongo.db.audit_log.update_one({"_id": records[3]["_id"]}, {"$set": {"user": "w-other"}})
    broken = (await verify_chain(mongo.db)).broken
    assert broken is not None and broken.seq == 4 and broken.record_id == records[3]["_id"]
    assert "altered" in broken.reason


async def test_a_deleted_record_is_detected_and_named(transactions, mongo):
    records = await sealed_chain(transactions, mongo)
    await mongo.db.audit_log.delete_one({"_id": records[2]["_id"]})
    broken = (await verify_chain(mongo.db)).broken
    assert broken is not None and broken.seq == 3 and "missing" in broken.reason


async def test_deleting_the_last_records_is_detected(transactions, mongo):
    records = await sealed_chain(transactions, mongo)
    await mongo.db.audit_log.delete_many({"_id": {"$in": [r["_id"] for r in records[4:]]}})
    broken = (await verify_chain(mongo.db)).broken
    assert broken is not None and broken.seq == 5 and "records 5 to 6 are missing" in broken.reason


async def test_reordered_records_are_detected_and_named(transactions, mongo):
    records = await sealed_chain(transactions, mongo)
    second, third = records[1], records[2]
    # Swap their places and rehash each so that neither looks altered on its own.
    for moved, seq in ((second, 3), (third, 2)):
        moved = {**moved, "seq": seq}
        moved["hash"] = audit.record_hash(moved)
        await mongo.db.audit_log.replace_one({"_id": moved["_id"]}, moved)
    broken = (await verify_chain(mongo.db)).broken
    assert broken is not None and broken.seq == 2 and broken.record_id == third["_id"]
    assert "does not follow" in broken.reason


async def test_the_verify_command_exits_non_zero_and_points_at_the_broken_record(
    transactions, mongo, mongodb_url, database_name, capsys
):
    records = await sealed_chain(transactions, mongo, count=3)
    args = ["audit", "verify", "--service", "cases", "--mongodb-url", mongodb_url]
    args += ["--database", database_name]
    assert await asyncio.to_thread(cli, args) == 0
    assert "3 record(s) verified" in capsys.readouterr().out

    await mongo.db.audit_log.update_one(
        {"_id": records[1]["_id"]}, {"$set": {"person": PERSON[:-1] + "b"}}
    )
    assert await asyncio.to_thread(cli, args) == 1
    out = capsys.readouterr().out
    assert f"BROKEN at record 2 (id {records[1]['_id']})" in out


async def test_an_audit_write_that_fails_fails_the_unit_of_work_as_unavailable(
    transactions, mongo, monkeypatch
):
    from pymongo.errors import OperationFailure

    async def refuse(*args, **kwargs):
        raise OperationFailure("disk full", 14031)

    async def read(uow: UnitOfWork) -> str:
        monkeypatch.setattr(uow.db["audit_log"].__class__, "insert_many", refuse)
        await AuditLog(uow).record(WORKER, Action.READ, CASEWORK, PERSON, "case:c-1")
        return "the data"

    with pytest.raises(audit.AuditUnavailable):
        await transactions.run(read)


def test_a_user_that_is_not_an_account_id_travels_as_a_digest():
    assert audit._user_ref("w-west-1") == "w-west-1"
    digest = audit._user_ref("jan.jansen@example.org")
    assert digest.startswith("u-") and "jansen" not in digest
