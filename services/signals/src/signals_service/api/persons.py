"""Personal data for other buurtsignaal services, on behalf of a user (audit-logged)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path

from servicekit.app import provide
from servicekit.http.problems import not_found
from servicekit.http.security import CurrentPrincipal
from servicekit.mongo import UnitOfWork
from signals_service.api.common import Tx
from signals_service.api.models import AddressOut, LetterDetails, NameOut
from signals_service.api.reads import PSEUDONYM
from signals_service.persons import PersonRegistry

router = APIRouter(prefix="/api/v1", tags=["persons"])

Service = CurrentPrincipal  # service clients only: access_matrix.py
Persons = Annotated[PersonRegistry, provide(PersonRegistry)]


@router.get(
    "/persons/{pseudonym}/letter-details",
    response_model=LetterDetails,
    summary="Names and address for the mayor's letter (service clients only)",
)
async def letter_details(
    pseudonym: Annotated[str, Path(pattern=PSEUDONYM)],
    caller: Service,
    persons: Persons,
    transactions: Tx,
    on_behalf_of: Annotated[str, Header(alias="X-On-Behalf-Of", min_length=1, max_length=128)],
) -> LetterDetails:
    async def read(uow: UnitOfWork) -> dict[str, Any] | None:
        return await persons.letter_details(uow, pseudonym, caller, on_behalf_of)

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
