"""The mayor's letters: status, download (audit-logged), and recording the delivery.

For workers and area managers of the case's team (and the worker who asked
for the letter); anybody else gets 404, as for a letter that does not exist.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from buurtsignaal_contracts.codes import LetterAddressee, LetterDeliveryMethod, LetterHandedTo
from notifications_service.domain.letters import DeliveryRejected, FailureReason, LetterStatus
from notifications_service.letters.desk import (
    DeliveryRecord,
    LetterDesk,
    LetterGone,
    may_handle,
    reference,
)
from notifications_service.processing import MAYOR_LETTER_STATUS
from notifications_service.store.letters import Letter, LetterStore
from servicekit.app import provide
from servicekit.audit import Action, AuditLog, AuditUser
from servicekit.authz import Authorized
from servicekit.http.idempotency import IdempotencyKey, create_once
from servicekit.http.problems import Problem, conflict, invalid, not_found
from servicekit.mongo import Transactions, UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["letters"])

Staff = Authorized  # the case's team and the requesting worker: access_matrix.py
Tx = Annotated[Transactions, provide(Transactions)]
Desk = Annotated[LetterDesk, provide(LetterDesk)]


class DeliveryOut(BaseModel):
    method: LetterDeliveryMethod
    handed_to: LetterHandedTo
    delivered_on: date
    recorded_by: str
    recorded_at: datetime


class LetterOut(BaseModel):
    id: uuid.UUID
    reference: str
    case_id: str
    team: str
    programme: str
    district: str
    addressees: list[LetterAddressee]
    worker: str
    status: LetterStatus
    requested_at: datetime
    rendered_at: datetime | None
    keep_until: datetime | None = Field(description="The PDF is destroyed then if undelivered")
    failure: FailureReason | None
    delivery: DeliveryOut | None
    pdf: str | None = Field(description="Where to download the PDF while it exists")

    @classmethod
    def of(cls, letter: Letter) -> LetterOut:
        ready = letter.status is LetterStatus.READY and letter.pdf is not None
        return cls(
            id=letter.id,
            reference=reference(letter.id),
            case_id=letter.case_id,
            team=letter.team,
            programme=letter.programme.value,
            district=letter.district,
            addressees=letter.addressees,
            worker=letter.worker,
            status=letter.status,
            requested_at=letter.requested_at,
            rendered_at=letter.rendered_at,
            keep_until=letter.keep_until if ready else None,
            failure=letter.failure,
            delivery=DeliveryOut(**vars(letter.delivery)) if letter.delivery else None,
            pdf=f"/api/v1/letters/{letter.id}/pdf" if ready else None,
        )


class LetterList(BaseModel):
    items: list[LetterOut]


class DeliveryIn(BaseModel):
    """How the letter reached the family."""

    model_config = ConfigDict(extra="forbid")

    method: LetterDeliveryMethod = Field(description="home-visit or post")
    delivered_on: date
    handed_to: LetterHandedTo = Field(
        description="youth, parent, youth-and-parent, other-household-member or letterbox"
    )


@router.get("/letters", response_model=LetterList, summary="The mayor's letters of a case")
async def letters_of_case(
    principal: Staff,
    transactions: Tx,
    case_id: Annotated[uuid.UUID, Query()],
) -> LetterList:
    async def read(uow: UnitOfWork) -> list[Letter]:
        found = await LetterStore(uow).of_case(str(case_id))
        shown = [letter for letter in found if may_handle(principal, letter)]
        await AuditLog(uow).record_many(
            AuditUser.of(principal),
            Action.READ,
            MAYOR_LETTER_STATUS,
            [(letter.person, f"letter:{letter.id}") for letter in shown],
        )
        return shown

    return LetterList(items=[LetterOut.of(x) for x in await transactions.run(read)])


@router.get("/letters/{letter_id}", response_model=LetterOut, summary="One letter's status")
async def get_letter(
    letter_id: uuid.UUID, principal: Staff, transactions: Tx, desk: Desk
) -> LetterOut:
    async def read(uow: UnitOfWork) -> Letter:
        try:
            letter = await desk.visible(uow, letter_id, principal)
        except LookupError:
            raise not_found("letter") from None
        await AuditLog(uow).record(
            AuditUser.of(principal),
            Action.READ,
            MAYOR_LETTER_STATUS,
            letter.person,
            f"letter:{letter.id}",
        )
        return letter

    return LetterOut.of(await transactions.run(read))


@router.get(
    "/letters/{letter_id}/pdf",
    summary="Download the letter (audit-logged)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 410: {"description": "Destroyed"}},
)
async def download_letter(
    letter_id: uuid.UUID, principal: Staff, transactions: Tx, desk: Desk
) -> Response:
    async def read(uow: UnitOfWork) -> bytes:
        try:
            return await desk.download(uow, letter_id, principal)
        except LookupError:
            raise not_found("letter") from None
        except LetterGone as gone:
            raise _gone(gone.status) from None

    pdf = await transactions.run(read)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": (
                f'attachment; filename="brief-burgemeester-{reference(letter_id)}.pdf"'
            ),
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/letters/{letter_id}/delivery",
    status_code=201,
    response_model=LetterOut,
    summary="Record the delivery: publishes mayor-letter-sent and destroys the PDF",
)
async def record_delivery(
    letter_id: uuid.UUID,
    body: DeliveryIn,
    principal: Staff,
    transactions: Tx,
    desk: Desk,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    record = DeliveryRecord(body.method, body.handed_to, body.delivered_on)

    async def create(uow: UnitOfWork) -> tuple[int, Any]:
        try:
            letter = await desk.record_delivery(uow, letter_id, principal, record)
        except LookupError:
            raise not_found("letter") from None
        except DeliveryRejected as rejected:
            if rejected.field == "status":
                raise conflict(rejected.message) from None
            raise invalid(rejected.field, rejected.message) from None
        return 201, LetterOut.of(letter).model_dump(mode="json")

    return await create_once(
        transactions,
        key=idempotency_key,
        principal=principal.principal,
        scope=f"letters:{letter_id}:delivery",
        payload=body.model_dump(mode="json"),
        create=create,
    )


def _gone(status: LetterStatus) -> Problem:
    why = {
        LetterStatus.DELIVERED: "the letter was delivered; its PDF was destroyed then",
        LetterStatus.EXPIRED: "the letter was not delivered in time; its PDF was destroyed",
        LetterStatus.ERASED: "the person's data was erased",
        LetterStatus.REQUESTED: "the letter is being prepared; try again shortly",
        LetterStatus.FAILED: "the letter could not be made",
    }
    if status is LetterStatus.REQUESTED:
        return Problem(
            409, "Not ready", why[status], "letter-not-ready", headers={"Retry-After": "5"}
        )
    return Problem(410, "Gone", why.get(status, status.value), "letter-gone")
