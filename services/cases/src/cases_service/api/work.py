"""The work on a case: screenings, contacts and the mayor's letter."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from cases_service.api.common import Cases, CaseWorker, Reader, Tx, refusals_as_problems, write_once
from cases_service.api.schemas import (
    CaseOut,
    CompletedScreening,
    ContactIn,
    ContactList,
    ContactOut,
    LetterAnswerIn,
    LetterRequestIn,
    RecordedContact,
    RequestedLetter,
    ScreeningIn,
    ScreeningList,
    ScreeningOut,
)
from servicekit.http.idempotency import IdempotencyKey
from servicekit.mongo import UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["work on a case"])


@router.post(
    "/cases/{case_id}/screenings",
    status_code=201,
    response_model=CompletedScreening,
    summary="Record a completed screening; it is scored against its instrument version",
)
async def complete_screening(
    case_id: uuid.UUID,
    body: ScreeningIn,
    actor: CaseWorker,
    cases: Cases,
    transactions: Tx,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """The case must be in status screening. Every answer is checked against the
    definition (``GET /api/v1/screening-instruments/{instrument}/{version}``); each
    problem names its question (``answers.<question id>``). The outcome
    start-trajectory moves the case to active."""

    async def create(uow: UnitOfWork) -> tuple[int, Any]:
        record, case = await cases.complete_screening(
            uow,
            case_id,
            actor,
            instrument=body.instrument,
            instrument_version=body.instrument_version,
            answers=body.answers,
            version=body.version,
        )
        out = CompletedScreening(
            **ScreeningOut.of(record).model_dump(),
            case_version=case.version,
            case_status=case.status,
        )
        return 201, out.model_dump(mode="json")

    return await write_once(
        transactions, actor, f"{case_id}:screenings", body, idempotency_key, create
    )


@router.get(
    "/cases/{case_id}/screenings",
    response_model=ScreeningList,
    summary="Screenings of a case, with their answers",
)
async def list_screenings(
    case_id: uuid.UUID, actor: Reader, cases: Cases, transactions: Tx
) -> ScreeningList:
    async def read(uow: UnitOfWork) -> ScreeningList:
        records = await cases.screenings(uow, case_id, actor)
        return ScreeningList(items=[ScreeningOut.of(r) for r in records])

    with refusals_as_problems():
        return await transactions.run(read)


@router.post(
    "/cases/{case_id}/contacts",
    status_code=201,
    response_model=RecordedContact,
    summary="Record a contact attempt",
)
async def record_contact(
    case_id: uuid.UUID,
    body: ContactIn,
    actor: CaseWorker,
    cases: Cases,
    transactions: Tx,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """No case version needed: a contact contradicts nobody. The first contact in
    which the person or family was reached meets the first-contact deadline."""

    async def create(uow: UnitOfWork) -> tuple[int, Any]:
        contact, case = await cases.record_contact(
            uow,
            case_id,
            actor,
            kind=body.kind,
            reached=body.reached,
            contact_date=body.contact_date,
            part_of_day=body.part_of_day,
            minutes=body.minutes,
        )
        out = RecordedContact(
            **ContactOut.of(contact).model_dump(),
            case_version=case.version,
            case_status=case.status,
        )
        return 201, out.model_dump(mode="json")

    return await write_once(
        transactions, actor, f"{case_id}:contacts", body, idempotency_key, create
    )


@router.get(
    "/cases/{case_id}/contacts",
    response_model=ContactList,
    summary="Contact attempts of a case, by date",
)
async def list_contacts(
    case_id: uuid.UUID, actor: Reader, cases: Cases, transactions: Tx
) -> ContactList:
    async def read(uow: UnitOfWork) -> ContactList:
        contacts = await cases.contacts(uow, case_id, actor)
        return ContactList(
            items=[ContactOut.of(c) for c in contacts],
            minutes_total=sum(c.minutes for c in contacts),
        )

    with refusals_as_problems():
        return await transactions.run(read)


@router.post(
    "/cases/{case_id}/letters",
    status_code=201,
    response_model=RequestedLetter,
    summary="Request the mayor's letter (intensive youth work)",
)
async def request_letter(
    case_id: uuid.UUID,
    body: LetterRequestIn,
    actor: CaseWorker,
    cases: Cases,
    transactions: Tx,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Publishes ``mayor-letter-requested``; the notifications service renders and
    delivers the letter and reports the delivery with ``mayor-letter-sent``, which
    moves the case to letter-delivered and starts the answer deadline."""

    async def create(uow: UnitOfWork) -> tuple[int, Any]:
        letter, case = await cases.request_letter(
            uow, case_id, actor, body.addressees, body.version
        )
        out = RequestedLetter(
            **vars(letter), case_id=case.id, case_version=case.version, case_status=case.status
        )
        return 201, out.model_dump(mode="json")

    return await write_once(
        transactions, actor, f"{case_id}:letters", body, idempotency_key, create
    )


@router.post(
    "/cases/{case_id}/letters/{letter_id}/answer",
    response_model=CaseOut,
    summary="Record the youth's answer to the mayor's letter",
)
async def record_letter_answer(
    case_id: uuid.UUID,
    letter_id: uuid.UUID,
    body: LetterAnswerIn,
    actor: CaseWorker,
    cases: Cases,
    transactions: Tx,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    async def create(uow: UnitOfWork) -> tuple[int, Any]:
        case = await cases.record_answer(
            uow,
            case_id,
            letter_id,
            actor,
            answer=body.answer,
            answered_on=body.answered_on,
            version=body.version,
        )
        return 200, CaseOut.of(case, cases.today(uow)).model_dump(mode="json")

    return await write_once(
        transactions, actor, f"{case_id}:letters:{letter_id}:answer", body, idempotency_key, create
    )
