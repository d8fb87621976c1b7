"""What every service does on top of its own erasure of a person (AVG art. 17).

Two kit collections keep copies of what a service said about a person for a while:
the outbox keeps published events (``PUBLISHED_RETENTION``) and the idempotency
store keeps responses (``KEY_RETENTION``). Both expire on their own, but an
erasure must not wait for that: ``forget_mentions`` deletes the records that
name the person's pseudonym or the ids of the person's records (cases,
signals, letters), which events about those records carry instead. Both
collections are bounded by their expiry, so reading them through is cheap
enough for something as rare as an erasure.

Outbox records not yet published are left alone: deleting them would take an
event from the other services (reporting would miscount); they are published
within moments and then expire.
"""

from __future__ import annotations

import json
from typing import Any

from servicekit.http.idempotency import IDEMPOTENCY_KEYS
from servicekit.mongo import UnitOfWork
from servicekit.outbox import OUTBOX


async def forget_mentions(
    uow: UnitOfWork, pseudonym: str, *record_ids: str, received: str | None = None
) -> int:
    """Delete published outbox records and stored responses that name the pseudonym or
    one of the record ids.

    ``received``: the id of an event of this service's own that has come back from the
    broker. The relay publishes in order and marks records after their batch, so that
    record and every one before it is published even if not marked yet.
    """
    needles = [pseudonym, *record_ids]
    query: dict[str, Any] = {"published_at": {"$type": "date"}}
    if received is not None:
        own = await uow.db[OUTBOX].find_one({"_id": received}, {"seq": 1}, session=uow.session)
        if own is not None:
            query = {"$or": [query, {"seq": {"$lte": own["seq"]}}]}
    published = uow.db[OUTBOX].find(query, {"body": 1}, session=uow.session)
    events = [d["_id"] async for d in published if _mentions(bytes(d["body"]).decode(), needles)]
    stored = uow.db[IDEMPOTENCY_KEYS].find({}, {"body": 1}, session=uow.session)
    responses = [
        d["_id"] async for d in stored if _mentions(json.dumps(d.get("body"), default=str), needles)
    ]
    if events:
        await uow.db[OUTBOX].delete_many({"_id": {"$in": events}}, session=uow.session)
    if responses:
        await uow.db[IDEMPOTENCY_KEYS].delete_many({"_id": {"$in": responses}}, session=uow.session)
    return len(events) + len(responses)


def _mentions(text: str, needles: list[str]) -> bool:
    return any(needle in text for needle in needles)
