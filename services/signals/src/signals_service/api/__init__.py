"""HTTP API of the signals service (prefix /api/v1).

intake      POST /signals, POST /signals/batch
reads       GET /signals/{id}, GET /signals
lifecycle   POST /signals/{id}/withdrawal, POST /persons/{pseudonym}/deceased
persons     GET /persons/{pseudonym}/letter-details (service clients)
erasure     POST /persons/erasures (admins)
"""

from fastapi import APIRouter

from signals_service.api import erasure, intake, lifecycle, persons, reads

router = APIRouter()
for part in (intake, reads, lifecycle, persons, erasure):
    router.include_router(part.router)

__all__ = ["router"]
