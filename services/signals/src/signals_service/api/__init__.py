"""HTTP API of the signals service (prefix /api/v1).

intake      POST /signals, POST /signals/batch
reads       GET /signals/{id}, GET /signals
lifecycle   POST /signals/{id}/withdrawal, POST /persons/{pseudonym}/deceased
persons     GET /persons/{pseudonym}/letter-details (service clients)
access_log  POST /persons/access-log, GET /persons/{pseudonym}/access-log (privacy officer)
erasure     POST /persons/erasures (admins)
"""

from fastapi import APIRouter

from signals_service.api import access_log, erasure, intake, lifecycle, persons, reads

router = APIRouter()
for part in (intake, reads, lifecycle, persons, access_log, erasure):
    router.include_router(part.router)

__all__ = ["router"]
