"""Erasure of a person on request (AVG art. 17): admins only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from servicekit.app import provide
from servicekit.http.idempotency import IdempotencyKey, create_once
from servicekit.http.problems import FieldError, Problem, not_found
from servicekit.http.security import CurrentPrincipal
from servicekit.mongo import UnitOfWork
from signals_service.api.common import Tx
from signals_service.api.models import ErasureIn, ErasureOut
from signals_service.erasure import ErasureRequest, PersonErasure, subject_keys
from signals_service.metrics import SignalsMetrics
from signals_service.persons import PersonRegistry

router = APIRouter(prefix="/api/v1", tags=["erasure"])

Admin = CurrentPrincipal  # admins only: the access matrix (access_matrix.py) enforces it
Erasures = Annotated[PersonErasure, provide(PersonErasure)]
Persons = Annotated[PersonRegistry, provide(PersonRegistry)]
Metrics = Annotated[SignalsMetrics, provide(SignalsMetrics)]


@router.post(
    "/persons/erasures",
    status_code=201,
    response_model=ErasureOut,
    summary="Erase a person everywhere (AVG art. 17; admins)",
    description=(
        "Identifies the person by BSN, or by name + date of birth + postcode + house number, "
        "deletes every signal about them and their identity, destroys their data key (every "
        "copy of their data, backups included, becomes unreadable) and publishes "
        "`subject-erased`, on which every service erases what it holds. Report figures stay "
        "as they were. 404 when nothing is held about the person (also after an erasure). "
        "`Idempotency-Key` honoured: a retry answers the same."
    ),
)
async def erase_person(
    body: ErasureIn,
    principal: Admin,
    erasures: Erasures,
    persons: Persons,
    transactions: Tx,
    metrics: Metrics,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    subject = body.person
    if missing := subject.missing_fields():
        raise Problem(
            422,
            "Invalid request",
            "a BSN, or name + date of birth + postcode + house number, identifies the person",
            "validation",
            [FieldError(f"person.{name}", "needed without a BSN", "missing") for name in missing],
        )
    plain_keys = subject_keys(**subject.model_dump())
    request = ErasureRequest(body.ground, body.reference, principal.sub, principal.org)

    async def erase(uow: UnitOfWork) -> tuple[int, Any]:
        done = await erasures.erase(uow, plain_keys, request)
        if done is None:
            raise not_found("person")
        out = ErasureOut(
            erasure_id=done.erasure_id,
            erased_at=done.erased_at,
            ground=body.ground,
            reference=body.reference,
            signals_removed=done.signals_removed,
        )
        return 201, out.model_dump(mode="json")

    result = await create_once(
        transactions,
        key=idempotency_key,
        principal=principal,
        scope="persons:erase",
        # The request names the person: only its keyed hashes are kept with the key.
        payload={
            "person": sorted(persons.hashes_of(plain_keys)),
            "ground": body.ground.value,
            "reference": body.reference,
        },
        create=erase,
    )
    if result.status_code == 201 and not result.headers.get("Idempotent-Replayed"):
        metrics.lifecycle.labels("erased").inc()
    return result
