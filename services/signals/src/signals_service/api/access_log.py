"""A person's access trail (AVG art. 15): who processed their data, when and why,
in every service, as collected from ``personal-data-processed`` events.

For the privacy officer (or an admin) acting on the person's request. The BSN is
taken in a POST body, never in a URL (URLs end up in access logs). Reading the
trail is itself a processing of the person's data and is audit-logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from servicekit.app import provide
from servicekit.audit import Action, AuditLog, AuditUser
from servicekit.auth import Principal
from servicekit.http.problems import not_found
from servicekit.http.security import CurrentPrincipal
from servicekit.mongo import UnitOfWork
from signals_service.api.common import Tx
from signals_service.api.reads import PSEUDONYM
from signals_service.domain.bsn import is_valid_bsn
from signals_service.persons import PersonRegistry
from signals_service.processing import ACCESS_REQUEST
from signals_service.store import AccessTrailStore, PersonStore

router = APIRouter(prefix="/api/v1", tags=["access log"])

# Privacy officers and admins only: the access matrix (access_matrix.py) enforces it.
PrivacyOfficer = CurrentPrincipal
Persons = Annotated[PersonRegistry, provide(PersonRegistry)]


class AccessLogRequest(BaseModel):
    """Whose trail: a BSN or a pseudonym, exactly one."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    bsn: str | None = Field(None, description="9 digits passing the 11-test")
    pseudonym: str | None = Field(None, pattern=PSEUDONYM)

    @field_validator("bsn")
    @classmethod
    def _eleven_test(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_bsn(value):
            raise ValueError("not a valid BSN: it must be 9 digits and pass the 11-test")
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> AccessLogRequest:
        if (self.bsn is None) == (self.pseudonym is None):
            raise ValueError("give either bsn or pseudonym")
        return self


class AccessEntry(BaseModel):
    at: datetime
    service: str
    action: str = Field(description="read, create, update or delete")
    activity: str = Field(description="The processing activity: why")
    user: str = Field(description="Account id, or 'system' for the service itself")
    organisation: str | None
    on_behalf_of: str | None
    records: list[str]
    categories: list[str]
    route: str

    @classmethod
    def of(cls, doc: dict[str, Any]) -> AccessEntry:
        return cls(**{name: doc.get(name) for name in cls.model_fields})


class AccessLogOut(BaseModel):
    person: str
    entries: list[AccessEntry] = Field(description="Oldest first")


@router.post(
    "/persons/access-log",
    response_model=AccessLogOut,
    summary="Who processed a person's data, found by BSN or pseudonym (privacy officer)",
)
async def access_log_by_body(
    body: AccessLogRequest, principal: PrivacyOfficer, persons: Persons, transactions: Tx
) -> AccessLogOut:
    async def read(uow: UnitOfWork) -> AccessLogOut | None:
        pseudonym = body.pseudonym or await persons.pseudonym_of_bsn(uow, body.bsn or "")
        return await _trail(uow, principal, pseudonym) if pseudonym else None

    return _found(await transactions.run(read))


@router.get(
    "/persons/{pseudonym}/access-log",
    response_model=AccessLogOut,
    summary="Who processed a person's data (privacy officer)",
)
async def access_log(
    pseudonym: Annotated[str, Path(pattern=PSEUDONYM)],
    principal: PrivacyOfficer,
    transactions: Tx,
) -> AccessLogOut:
    return _found(await transactions.run(lambda uow: _trail(uow, principal, pseudonym)))


async def _trail(uow: UnitOfWork, principal: Principal, pseudonym: str) -> AccessLogOut | None:
    entries = await AccessTrailStore(uow).of_person(pseudonym)
    if not entries and await PersonStore(uow).find_by_pseudonym(pseudonym) is None:
        return None
    # No record, no answer: the trail is personal data of the person too.
    await AuditLog(uow).record(
        AuditUser.of(principal), Action.READ, ACCESS_REQUEST, pseudonym, f"access-log:{pseudonym}"
    )
    return AccessLogOut(person=pseudonym, entries=[AccessEntry.of(e) for e in entries])


def _found(trail: AccessLogOut | None) -> AccessLogOut:
    if trail is None:
        raise not_found("person")
    return trail
