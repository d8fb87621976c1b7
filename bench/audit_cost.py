"""What the audit log costs, and why its hash chain is sealed in the background.

1. Per request: a read transaction as the services run it (one find), without and
   with its audit record (the record, its ``personal-data-processed`` event and the
   outbox write), sequentially; p50/p95 and the difference.
2. Under concurrency: writers that each append one audit record per transaction,
   (a) append-only with the background sealer running (what the services do) and
   (b) chained inline (read the head, write the record with seq and hash, move the
   head) - how many transactions conflict and are retried, fail, and how fast each is.

    .venv/bin/python bench/audit_cost.py [--requests 400] [--writers 8] [--each 40]

Uses MONGODB_URL if set, else starts the SecantusDB stand-in. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from buurtsignaal_contracts.codes import DataCategory
from servicekit import audit
from servicekit.audit import Action, Activity, AuditLog, AuditUser
from servicekit.clock import SystemClock
from servicekit.devstack.processes import DatabaseProcess
from servicekit.mongo import DatabaseUnavailable, Mongo, Transactions, UnitOfWork
from servicekit.outbox import INDEXES as OUTBOX_INDEXES
from servicekit.outbox import write_outbox

RESULTS = Path(__file__).parent / "results"
CASEWORK = Activity("casework", (DataCategory.CASE_FACTS,))
WORKER = AuditUser("w-bench", "wijkteam-west")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def per_request(transactions: Transactions, requests: int) -> dict[str, float]:
    person = "ps-" + uuid.uuid4().hex

    async def plain(uow: UnitOfWork) -> None:
        await uow.db.cases.find_one({"_id": "case-1"}, session=uow.session)

    async def audited(uow: UnitOfWork) -> None:
        await uow.db.cases.find_one({"_id": "case-1"}, session=uow.session)
        await AuditLog(uow).record(WORKER, Action.READ, CASEWORK, person, "case:case-1")

    figures: dict[str, float] = {}
    for name, work in (("plain", plain), ("audited", audited)) * 2:  # twice: warm, then measure
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            await transactions.run(work)
            timings.append((time.perf_counter() - started) * 1000)
        figures[f"{name}_p50_ms"] = round(pct(timings, 50), 2)
        figures[f"{name}_p95_ms"] = round(pct(timings, 95), 2)
        figures[f"{name}_mean_ms"] = round(statistics.fmean(timings), 2)
    figures["audit_cost_p50_ms"] = round(figures["audited_p50_ms"] - figures["plain_p50_ms"], 2)
    figures["audit_cost_mean_ms"] = round(figures["audited_mean_ms"] - figures["plain_mean_ms"], 2)
    return figures


async def inline_chained(uow: UnitOfWork, person: str) -> None:
    """The alternative: the same record, chained in the writer's own transaction."""
    await AuditLog(uow).record(WORKER, Action.READ, CASEWORK, person, "case:c")
    log = uow.db[audit.AUDIT_LOG]
    record = await log.find_one({"seq": None, "person": person}, session=uow.session)
    head = await uow.db[audit.AUDIT_CHAIN].find_one({"_id": audit.HEAD}, session=uow.session)
    seq, prev = (head["seq"], head["hash"]) if head else (0, audit.GENESIS)
    record.update(seq=seq + 1, prev=prev)
    digest = audit.record_hash(record)
    chained = {"seq": seq + 1, "prev": prev, "hash": digest}
    await log.update_one({"_id": record["_id"]}, {"$set": chained}, session=uow.session)
    await uow.db[audit.AUDIT_CHAIN].update_one(
        {"_id": audit.HEAD},
        {"$set": {"seq": seq + 1, "hash": digest}},
        upsert=True,
        session=uow.session,
    )


async def concurrency(mongo: Mongo, writers: int, each: int, inline: bool) -> dict[str, float]:
    retries: Counter[str] = Counter()
    transactions = Transactions(
        mongo, SystemClock(), write_outbox, lambda: None, on_retry=retries.update, service="cases"
    )
    failures = 0

    async def writer(n: int) -> None:
        nonlocal failures
        person = f"ps-{n:032x}"
        for _ in range(each):

            async def appended(uow: UnitOfWork) -> None:
                await AuditLog(uow).record(WORKER, Action.READ, CASEWORK, person, "case:c")

            async def chained(uow: UnitOfWork) -> None:
                await inline_chained(uow, person)

            try:
                await transactions.run(chained if inline else appended)
            except DatabaseUnavailable:
                failures += 1

    sealer = None if inline else asyncio.create_task(audit.run_sealer(transactions, 0.2))
    started = time.perf_counter()
    await asyncio.gather(*(writer(n) for n in range(writers)))
    elapsed = time.perf_counter() - started
    lag_started = time.perf_counter()
    if sealer is not None:
        while await mongo.db[audit.AUDIT_LOG].count_documents({"seq": None}):
            await asyncio.sleep(0.05)
        sealer.cancel()
    total = writers * each
    return {
        "transactions": total,
        "retried": sum(retries.values()),
        "failed_after_retries": failures,
        "per_second": round((total - failures) / elapsed, 1),
        "seconds_until_all_sealed": round(time.perf_counter() - lag_started, 2),
    }


async def fresh_chain(mongo: Mongo) -> Mongo:
    await mongo.db[audit.AUDIT_LOG].delete_many({})
    await mongo.db[audit.AUDIT_CHAIN].delete_many({})
    return mongo


async def run(args: argparse.Namespace, url: str) -> dict:
    database = f"bench_audit_{uuid.uuid4().hex[:8]}"
    mongo = Mongo(url, database, timeout_ms=5000, app_name="bench-audit")
    await mongo.ensure_indexes([*audit.INDEXES, *OUTBOX_INDEXES])
    await mongo.db.cases.insert_one({"_id": "case-1"})
    transactions = Transactions(mongo, SystemClock(), write_outbox, lambda: None, service="cases")
    try:
        return {
            "per_request": await per_request(transactions, args.requests),
            "append_with_sealer": await concurrency(mongo, args.writers, args.each, inline=False),
            "inline_chain": await concurrency(
                await fresh_chain(mongo), args.writers, args.each, inline=True
            ),
        }
    finally:
        await mongo.client.drop_database(database)
        await mongo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--each", type=int, default=40)
    args = parser.parse_args()
    database = None
    url = os.environ.get("MONGODB_URL")
    if url is None:
        workdir = Path(tempfile.mkdtemp(prefix="bench-audit-"))
        database = DatabaseProcess(workdir / "db", workdir / "secantusdb.log")
        url = database.start()
    try:
        figures = asyncio.run(run(args, url))
    finally:
        if database is not None:
            database.stop()
    print(json.dumps(figures, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "audit_cost.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
