"""HTTP API of the signals service: intake and reads of signals."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from buurtsignaal_contracts.codes import AgeBand, Category, Programme, SourceType
from servicekit.app import provide
from servicekit.auth import Principal, Role
from servicekit.http.idempotency import create_once
from servicekit.http.problems import FieldError, Problem, forbidden, not_found
from servicekit.http.security import require_roles
from servicekit.mongo import Transactions, UnitOfWork
from signals_service.domain.bsn import is_valid_bsn
from signals_service.domain.identity import Guardian, PersonIdentity
from signals_service.service import IntakeRejected, SignalIntake, Submission
from signals_service.store import AuditLog, PersonStore, Signal, SignalStore

router = APIRouter(prefix="/api/v1", tags=["signals"])

Reporter = Annotated[Principal, Depends(require_roles(Role.REPORTER, Role.WORKER))]
Reader = Annotated[Principal, Depends(require_roles(Role.REPORTER, Role.ADMIN))]
Intake = Annotated[SignalIntake, provide(SignalIntake)]
Tx = Annotated[Transactions, provide(Transactions)]


class PersonIn(BaseModel):
    """The person the signal is about: a BSN, or name + date of birth + address."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    bsn: str | None = Field(None, description="9 digits passing the 11-test")
    given_name: str | None = Field(None, max_length=100)
    family_name: str | None = Field(None, max_length=100)
    date_of_birth: date
    postcode: str | None = Field(None, pattern=r"^[1-9][0-9]{3} ?[A-Za-z]{2}$")
    house_number: str | None = Field(None, max_length=12, pattern=r"^[0-9]+ ?[A-Za-z0-9-]{0,6}$")
    street: str | None = Field(None, max_length=100)
    city: str | None = Field(None, max_length=60)
    guardians: list[GuardianIn] = Field(
        default_factory=list, max_length=4, description="Parents or guardians, for the letter"
    )

    @field_validator("bsn")
    @classmethod
    def _eleven_test(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_bsn(value):
            raise ValueError("not a valid BSN: it must be 9 digits and pass the 11-test")
        return value


class GuardianIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)


class SignalIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source_type: SourceType
    category: Category
    person: PersonIn
    occurred_on: date = Field(description="When the concern was observed")
    district: str | None = Field(None, description="Needed when the postcode does not tell")
    description: str | None = Field(
        None, max_length=4000, description="Free text; stays in the signals service"
    )
    suggested_programme: Programme | None = None

    def to_submission(self) -> Submission:
        fields = self.person.model_dump(exclude={"guardians"})
        guardians = tuple(Guardian(**g.model_dump()) for g in self.person.guardians)
        person = PersonIdentity(**fields, guardians=guardians)
        return Submission(
            source_type=self.source_type,
            category=self.category,
            person=person,
            occurred_on=self.occurred_on,
            district=self.district,
            description=self.description,
            suggested_programme=self.suggested_programme,
        )


class SignalOut(BaseModel):
    id: uuid.UUID
    status: str
    person: str = Field(description="Pseudonym of the person")
    source_type: SourceType
    reporting_org: str
    category: Category
    district: str
    age_band: AgeBand
    suggested_programme: Programme | None
    occurred_on: date
    received_at: datetime
    expires_on: date
    description: str | None = None

    @classmethod
    def of(cls, signal: Signal, description: str | None = None) -> SignalOut:
        return cls(
            id=signal.id,
            status=signal.status,
            person=signal.person,
            source_type=signal.source_type,
            reporting_org=signal.reporting_org,
            category=signal.category,
            district=signal.district,
            age_band=signal.age_band,
            suggested_programme=signal.suggested_programme,
            occurred_on=signal.occurred_on,
            received_at=signal.received_at,
            expires_on=signal.expires_on,
            description=description,
        )


class SignalPage(BaseModel):
    items: list[SignalOut]
    next_cursor: str | None


@router.post("/signals", status_code=201, response_model=SignalOut, summary="Report a signal")
async def submit_signal(
    body: SignalIn,
    principal: Reporter,
    intake: Intake,
    transactions: Tx,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Any:
    if not principal.org:
        raise forbidden("the token names no organisation; signals are reported for one")
    try:
        checked = intake.check(body.to_submission())

        async def create(uow: UnitOfWork) -> tuple[int, Any]:
            signal = await intake.register(uow, checked, principal)
            return 201, SignalOut.of(signal).model_dump(mode="json")

        result = await create_once(
            transactions,
            key=idempotency_key,
            principal=principal,
            scope="signals:create",
            payload=body.model_dump(mode="json"),
            create=create,
        )
    except IntakeRejected as rejected:
        raise Problem(
            422,
            "Invalid signal",
            str(rejected),
            "validation",
            [FieldError(v.field, v.message, v.code) for v in rejected.violations],
        ) from None
    if result.status_code == 201:
        result.headers["Location"] = f"/api/v1/signals/{_body_id(result.body)}"
    return result


@router.get(
    "/signals/{signal_id}", response_model=SignalOut, summary="One signal, with its description"
)
async def get_signal(
    signal_id: uuid.UUID, principal: Reader, intake: Intake, transactions: Tx
) -> SignalOut:
    async def read(uow: UnitOfWork) -> SignalOut:
        signal = await SignalStore(uow).get(signal_id)
        if signal is None or not _may_see(principal, signal):
            raise not_found("signal")
        wrapped = await PersonStore(uow).wrapped_key(signal.person_id)
        # The read is logged in the same transaction: no log, no data.
        await AuditLog(uow).record(
            actor=principal.sub,
            org=principal.org,
            action="read",
            purpose="signal-follow-up",
            person=signal.person,
            record=f"signal:{signal.id}",
        )
        return SignalOut.of(signal, intake.read_description(signal, wrapped))

    return await transactions.run(read)


@router.get("/signals", response_model=SignalPage, summary="Signals your organisation reported")
async def list_signals(
    principal: Reader,
    transactions: Tx,
    district: str | None = None,
    category: Category | None = None,
    source_type: SourceType | None = None,
    status: Annotated[str | None, Query(pattern="^(active|withdrawn|expired)$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> SignalPage:
    query: dict[str, Any] = {}
    if not principal.has_any(Role.ADMIN):
        query["reporting_org"] = principal.org
    for key, value in (
        ("district", district),
        ("category", category),
        ("source_type", source_type),
        ("status", status),
    ):
        if value is not None:
            query[key] = str(value)

    async def read(uow: UnitOfWork) -> list[Signal]:
        return await SignalStore(uow).page(query, limit=limit, after=_decode_cursor(cursor))

    signals = await transactions.run(read)
    next_cursor = _encode_cursor(signals[-1]) if len(signals) == limit else None
    return SignalPage(items=[SignalOut.of(s) for s in signals], next_cursor=next_cursor)


class NameOut(BaseModel):
    given_name: str | None
    family_name: str | None


class AddressOut(BaseModel):
    street: str | None
    house_number: str | None
    postcode: str | None
    city: str | None


class LetterDetails(BaseModel):
    """What the mayor's letter needs: names and the home address. Personal data."""

    person: str
    youth: NameOut
    guardians: list[NameOut]
    address: AddressOut


Service = Annotated[Principal, Depends(require_roles(Role.SERVICE))]


@router.get(
    "/persons/{pseudonym}/letter-details",
    response_model=LetterDetails,
    summary="Names and address for the mayor's letter (service clients only)",
)
async def letter_details(
    pseudonym: Annotated[str, Path(pattern=r"^ps-[0-9a-f]{32}$")],
    caller: Service,
    intake: Intake,
    transactions: Tx,
    on_behalf_of: Annotated[str, Header(alias="X-On-Behalf-Of", min_length=1, max_length=128)],
) -> LetterDetails:
    async def read(uow: UnitOfWork) -> dict[str, Any] | None:
        return await intake.letter_details(uow, pseudonym, caller, on_behalf_of)

    identity = await transactions.run(read)
    if identity is None:
        raise not_found("person")
    return LetterDetails(
        person=pseudonym,
        youth=NameOut(given_name=identity["given_name"], family_name=identity["family_name"]),
        guardians=[NameOut(**g) for g in identity.get("guardians", [])],
        address=AddressOut(
            street=identity.get("street"),
            house_number=identity.get("house_number"),
            postcode=identity.get("postcode"),
            city=identity.get("city"),
        ),
    )


def _may_see(principal: Principal, signal: Signal) -> bool:
    return principal.has_any(Role.ADMIN) or signal.reporting_org == principal.org


def _encode_cursor(signal: Signal) -> str:
    raw = f"{signal.received_at.isoformat()}|{signal.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    try:
        received_at, signal_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(received_at), str(uuid.UUID(signal_id))
    except ValueError:
        raise Problem(
            422,
            "Invalid request",
            "cursor: not a cursor this API returned",
            "validation",
            [FieldError("query.cursor", "not a cursor this API returned")],
        ) from None


def _body_id(body: bytes | memoryview) -> str:
    return str(json.loads(bytes(body))["id"])
