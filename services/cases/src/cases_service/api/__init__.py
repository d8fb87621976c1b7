"""HTTP API of the cases service (see ``common`` for scoping and concurrency)."""

from fastapi import APIRouter

from cases_service.api import cases, instruments, work

router = APIRouter()
router.include_router(cases.router)
router.include_router(work.router)
router.include_router(instruments.router)

__all__ = ["router"]
