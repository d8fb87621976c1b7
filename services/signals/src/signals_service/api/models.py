"""Request and response bodies of the signals API."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from buurtsignaal_contracts.codes import (
    AgeBand,
    Category,
    ExpiryReason,
    Programme,
    SourceType,
    WithdrawalReason,
)
from signals_service.domain.bsn import is_valid_bsn
from signals_service.domain.identity import Guardian, PersonIdentity
from signals_service.erasure import ErasureGround
from signals_service.intake import Submission
from signals_service.store import Signal

EXTERNAL_REF = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$"


class GuardianIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)


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

    def to_identity(self) -> PersonIdentity:
        fields = self.model_dump(exclude={"guardians"})
        guardians = tuple(Guardian(**g.model_dump()) for g in self.guardians)
        return PersonIdentity(**fields, guardians=guardians)


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
        return Submission(
            source_type=self.source_type,
            category=self.category,
            person=self.person.to_identity(),
            occurred_on=self.occurred_on,
            district=self.district,
            description=self.description,
            suggested_programme=self.suggested_programme,
        )


class BatchItemIn(SignalIn):
    external_ref: str = Field(
        pattern=EXTERNAL_REF,
        description=(
            "The partner system's own reference for this signal. A reference seen before "
            "(from the same organisation) is not imported again: a batch can be resent safely."
        ),
    )


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signals: list[dict[str, object]] = Field(
        min_length=1, description="Signals as for POST /signals, each with an external_ref"
    )


class FieldErrorOut(BaseModel):
    field: str
    message: str
    code: str


class BatchItemOut(BaseModel):
    index: int = Field(description="Position in the request, from 0")
    result: Literal["created", "duplicate", "rejected"]
    id: uuid.UUID | None = None
    person: str | None = None
    errors: list[FieldErrorOut] = Field(default_factory=list)


class BatchOut(BaseModel):
    created: int
    duplicates: int
    rejected: int
    results: list[BatchItemOut]


class MatchContact(BaseModel):
    """Another organisation with an active signal about the same person: whom to call."""

    organisation: str
    professional: str = Field(description="Account id; contact details from the directory")


class SignalOut(BaseModel):
    id: uuid.UUID
    status: Literal["active", "withdrawn", "expired"]
    person: str = Field(description="Pseudonym of the person")
    source_type: SourceType
    reporting_org: str
    reporter: str
    category: Category
    district: str
    age_band: AgeBand
    suggested_programme: Programme | None
    occurred_on: date
    received_at: datetime
    expires_on: date
    expiry_reason: ExpiryReason
    earlier_signal_existed: bool
    withdrawal_reason: WithdrawalReason | None = None
    withdrawn_at: datetime | None = None
    description: str | None = None
    matched_with: list[MatchContact] | None = Field(
        None, description="Only on a single signal: other organisations involved"
    )

    @classmethod
    def of(
        cls,
        signal: Signal,
        today: date,
        description: str | None = None,
        matched_with: list[Signal] | None = None,
    ) -> SignalOut:
        status = "expired" if signal.expires_on <= today else signal.status.value
        contacts = None
        if matched_with is not None:
            contacts = [
                MatchContact(organisation=s.reporting_org, professional=s.reporter)
                for s in matched_with
            ]
        return cls(
            id=signal.id,
            status=status,  # type: ignore[arg-type]
            person=signal.person,
            source_type=signal.source_type,
            reporting_org=signal.reporting_org,
            reporter=signal.reporter,
            category=signal.category,
            district=signal.district,
            age_band=signal.age_band,
            suggested_programme=signal.suggested_programme,
            occurred_on=signal.occurred_on,
            received_at=signal.received_at,
            expires_on=signal.expires_on,
            expiry_reason=signal.expiry_reason,
            earlier_signal_existed=signal.earlier_signal_existed,
            withdrawal_reason=signal.withdrawal_reason,
            withdrawn_at=signal.withdrawn_at,
            description=description,
            matched_with=contacts,
        )


class SignalPage(BaseModel):
    items: list[SignalOut]
    next_cursor: str | None


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: WithdrawalReason = Field(
        description="`wrongful`: the signal should never have been made; it is deleted outright"
    )


class WithdrawalOut(BaseModel):
    id: uuid.UUID
    status: Literal["withdrawn", "deleted"]
    reason: WithdrawalReason
    withdrawn_at: datetime


class DeceasedOut(BaseModel):
    person: str
    signals_removed: int


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


class ErasureSubjectIn(BaseModel):
    """Whom to erase: a BSN, or name + date of birth + postcode + house number."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    bsn: str | None = Field(None, description="9 digits passing the 11-test; decides when given")
    given_name: str | None = Field(None, min_length=1, max_length=100)
    family_name: str | None = Field(None, min_length=1, max_length=100)
    date_of_birth: date | None = None
    postcode: str | None = Field(None, pattern=r"^[1-9][0-9]{3} ?[A-Za-z]{2}$")
    house_number: str | None = Field(None, max_length=12, pattern=r"^[0-9]+ ?[A-Za-z0-9-]{0,6}$")

    @field_validator("bsn")
    @classmethod
    def _eleven_test(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_bsn(value):
            raise ValueError("not a valid BSN: it must be 9 digits and pass the 11-test")
        return value

    def missing_fields(self) -> list[str]:
        """Without a BSN every field of name + birth date + address is needed."""
        if self.bsn:
            return []
        needed = ("given_name", "family_name", "date_of_birth", "postcode", "house_number")
        return [name for name in needed if getattr(self, name) is None]


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    person: ErasureSubjectIn
    ground: ErasureGround = Field(description="The legal ground (AVG art. 17(1)) as a code")
    reference: str | None = Field(
        None,
        pattern=EXTERNAL_REF,
        description="The request's own reference (a code, e.g. the registration number)",
    )

    @field_validator("reference")
    @classmethod
    def _not_a_bsn(cls, value: str | None) -> str | None:
        # The register keeps the reference after the person is gone: it must not name them.
        if value is not None and any(is_valid_bsn(d) for d in re.findall(r"(?=(\d{9}))", value)):
            raise ValueError("a reference must not contain a BSN")
        return value


class ErasureOut(BaseModel):
    erasure_id: uuid.UUID
    erased_at: datetime
    ground: ErasureGround
    reference: str | None
    signals_removed: int
