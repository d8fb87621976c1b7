"""The ``Idempotency-Key`` header on POSTs that create things.

The key, a hash of the request and the response are stored in the same
transaction as the creation. The same key with the same request returns the
stored response (a retry after a timeout creates nothing new); the same key
with a different request is refused with 422.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from pymongo.errors import DuplicateKeyError

from servicekit.auth import Principal
from servicekit.http.problems import Problem
from servicekit.mongo import IndexSpec, RetryTransaction, Transactions, UnitOfWork

IDEMPOTENCY_KEYS = "idempotency_keys"
KEY_RETENTION = timedelta(hours=24)
INDEXES = [
    IndexSpec(
        IDEMPOTENCY_KEYS,
        [("created_at", 1)],
        name="expire_keys",
        expire_after_seconds=int(KEY_RETENTION.total_seconds()),
    )
]

Creation = Callable[[UnitOfWork], Awaitable[tuple[int, Any]]]


def request_fingerprint(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
"""The optional ``Idempotency-Key`` header of a POST that creates something."""


async def create_once(
    transactions: Transactions,
    *,
    key: str | None,
    principal: Principal,
    scope: str,
    payload: Any,
    create: Creation,
) -> JSONResponse:
    """Run ``create`` (returning status and JSON body) at most once per key."""
    if key is None:
        status, body = await transactions.run(create)
        return JSONResponse(body, status_code=status)
    if not 1 <= len(key) <= 200:
        raise Problem(
            422, "Invalid request", "Idempotency-Key must be 1 to 200 characters", "validation"
        )
    record_id = f"{scope}:{principal.sub}:{key}"
    fingerprint = request_fingerprint(payload)

    async def work(uow: UnitOfWork) -> tuple[int, Any, bool]:
        keys = uow.db[IDEMPOTENCY_KEYS]
        stored = await keys.find_one({"_id": record_id}, session=uow.session)
        if stored is not None:
            if stored["fingerprint"] != fingerprint:
                raise Problem(
                    422,
                    "Idempotency-Key reused",
                    "this Idempotency-Key was used for a different request",
                    "idempotency-key-reused",
                )
            return stored["status"], stored["body"], True
        status, body = await create(uow)
        try:
            await keys.insert_one(
                {
                    "_id": record_id,
                    "fingerprint": fingerprint,
                    "status": status,
                    "body": body,
                    "created_at": uow.clock.now(),
                },
                session=uow.session,
            )
        except DuplicateKeyError as race:
            raise RetryTransaction from race
        return status, body, False

    status, body, replayed = await transactions.run(work)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return JSONResponse(body, status_code=status, headers=headers)
