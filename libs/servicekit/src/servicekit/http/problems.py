"""RFC 9457 problem details for every error a service returns.

Validation errors list each offending field by its dotted path, so a partner
developer sees "person.bsn" rather than a stack trace. The submitted values are
never echoed back (they may be personal data) and never logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException as StarletteHTTPException

from servicekit import logs
from servicekit.auth import AuthenticationError, KeysUnavailable
from servicekit.mongo import DatabaseUnavailable

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:buurtsignaal:problem:"


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "code": self.code}


@dataclass
class Problem(Exception):
    """Raise anywhere in a request to answer with a problem detail."""

    status: int
    title: str
    detail: str | None = None
    kind: str = "about:blank"
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail or ''}"


def not_found(what: str) -> Problem:
    return Problem(404, "Not found", f"{what} does not exist or is not visible to you", "not-found")


def forbidden(detail: str) -> Problem:
    return Problem(403, "Forbidden", detail, "forbidden")


def conflict(detail: str) -> Problem:
    return Problem(409, "Conflict", detail, "conflict")


def invalid(field_name: str, message: str, code: str = "invalid") -> Problem:
    """A 422 for one field that breaks a rule the schema cannot express."""
    return Problem(
        422,
        "Invalid request",
        f"{field_name}: {message}",
        "validation",
        [FieldError(field_name, message, code)],
    )


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem.kind if problem.kind == "about:blank" else TYPE_PREFIX + problem.kind,
        "title": problem.title,
        "status": problem.status,
        "instance": request.url.path,
    }
    if problem.detail:
        body["detail"] = problem.detail
    if problem.errors:
        body["errors"] = [e.as_dict() for e in problem.errors]
    if (cid := logs.correlation_id.get()) is not None:
        body["correlation_id"] = cid
    return JSONResponse(
        body, status_code=problem.status, headers=problem.headers, media_type=PROBLEM_JSON
    )


def _field_path(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location]
    if parts[:1] == ["body"]:  # body fields by their own path; query.x, header.x stay
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_problem(error: RequestValidationError) -> Problem:
    errors = [
        FieldError(_field_path(tuple(e["loc"])), e["msg"].removeprefix("Value error, "), e["type"])
        for e in error.errors()
    ]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    return Problem(422, "Invalid request", detail, "validation", errors)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, problem: Problem) -> JSONResponse:
        return problem_response(request, problem)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        return problem_response(request, validation_problem(error))

    @app.exception_handler(AuthenticationError)
    async def _unauthenticated(request: Request, error: AuthenticationError) -> JSONResponse:
        problem = Problem(
            401,
            "Unauthorized",
            "a valid bearer token is required",
            "unauthorized",
            headers={"WWW-Authenticate": 'Bearer realm="buurtsignaal"'},
        )
        return problem_response(request, problem)

    @app.exception_handler(KeysUnavailable)
    async def _no_keys(request: Request, error: KeysUnavailable) -> JSONResponse:
        log.warning("the issuer's keys are unavailable; answered 503")
        problem = Problem(
            503,
            "Service unavailable",
            "the token issuer's keys cannot be fetched; try again shortly",
            "unavailable",
            headers={"Retry-After": "5"},
        )
        return problem_response(request, problem)

    @app.exception_handler(DatabaseUnavailable)
    async def _unavailable(request: Request, error: DatabaseUnavailable) -> JSONResponse:
        return _database_unavailable(request, str(error))

    # A read outside a unit of work meets PyMongo's own errors: server selection
    # timed out, the connection was refused or reset. Also a 503, never a 500.
    @app.exception_handler(ConnectionFailure)
    async def _unreachable(request: Request, error: ConnectionFailure) -> JSONResponse:
        return _database_unavailable(request, type(error).__name__)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        problem = Problem(error.status_code, _reason(error.status_code), str(error.detail))
        return problem_response(request, problem)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error("unexpected error", extra={"error": type(error).__name__}, exc_info=error)
        return problem_response(request, Problem(500, "Internal server error", kind="internal"))


def _database_unavailable(request: Request, error: str) -> JSONResponse:
    log.warning("database unavailable; answered 503", extra={"error": error})
    problem = Problem(
        503,
        "Service unavailable",
        "the database cannot be reached; nothing was changed, try again shortly",
        "unavailable",
        headers={"Retry-After": "5"},
    )
    return problem_response(request, problem)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
