"""The screening questionnaires the service knows, for clients to render them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from cases_service.api.common import Cases, Reader
from cases_service.api.schemas import InstrumentSummary
from cases_service.domain.screening import UnknownInstrument
from servicekit.http.problems import not_found

router = APIRouter(prefix="/api/v1", tags=["screening instruments"])


@router.get(
    "/screening-instruments",
    response_model=list[InstrumentSummary],
    summary="Every screening instrument version",
)
async def list_instruments(actor: Reader, cases: Cases) -> list[InstrumentSummary]:
    return [
        InstrumentSummary(
            instrument=i.instrument,
            version=i.version,
            title=i.title,
            questions=len(i.questions),
        )
        for i in cases.instruments.instruments
    ]


@router.get(
    "/screening-instruments/{instrument}/{version}",
    summary="One instrument version: questions, answer scales and outcome bands",
)
async def get_instrument(
    instrument: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")],
    version: Annotated[str, Path(pattern=r"^[0-9]+(\.[0-9]+){0,2}$")],
    actor: Reader,
    cases: Cases,
) -> Any:
    try:
        definition = cases.instruments.get(instrument, version)
    except UnknownInstrument:
        raise not_found("screening instrument version") from None
    return definition.model_dump(mode="json")
