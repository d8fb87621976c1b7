"""What every route of the cases API shares: who is asking, and refusals as problems.

Who may call which route, and on which teams' cases, is ``access_matrix.py``.
Scoping: a case outside the teams the caller may *read* answers 404, exactly
like a case that does not exist, for reads and for changes alike (so the API
never confirms that a case exists to someone who may not see it). A role the
matrix does not grant on a route (an analyst reading cases, a worker assigning)
answers 403, and so does a change to a case the caller may read but not change.

Optimistic concurrency: every request that decides something about a case
sends the ``version`` of the case it saw (a field of the JSON body). When the
case has changed since, the answer is 409 ``version-conflict`` and nothing
changes. Recording a contact needs no version: it does not contradict anyone.
"""

# No "from __future__ import annotations": FastAPI reads the annotations of the
# nested dependency below at run time, and they name a local variable.
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel

from cases_service.access_matrix import READ_CASE
from cases_service.domain.refusals import InvalidStep, Refusal, TransitionRefused, VersionConflict
from cases_service.service import Actor, CaseNotFound, CaseService, LetterNotFound, NotYourTeam
from servicekit.app import provide
from servicekit.authz import Authorized, access_elsewhere
from servicekit.http.idempotency import create_once
from servicekit.http.problems import FieldError, Problem, forbidden, not_found
from servicekit.mongo import Transactions, UnitOfWork

Tx = Annotated[Transactions, provide(Transactions)]
Cases = Annotated[CaseService, provide(CaseService)]


async def _actor(request: Request, access: Authorized, cases: Cases) -> Actor:
    # What the caller may see is what the read route grants them; what they may
    # do here is what this route grants them.
    reading = access_elsewhere(request, *READ_CASE)
    return Actor.of(access, reading, cases.areas)


# The matrix has already refused roles it does not grant on the route; the
# names say which roles reach it.
Reader = Annotated[Actor, Depends(_actor)]
CaseWorker = Annotated[Actor, Depends(_actor)]
AreaManager = Annotated[Actor, Depends(_actor)]


@contextlib.contextmanager
def refusals_as_problems() -> Iterator[None]:
    """Turn what the rules refuse into RFC 9457 problem details that name the field."""
    try:
        yield
    except LetterNotFound:
        raise not_found("letter") from None
    except CaseNotFound:
        raise not_found("case") from None
    except NotYourTeam as refusal:
        raise forbidden(str(refusal)) from None
    except VersionConflict as refusal:
        raise _problem(409, "Case changed", "version-conflict", refusal) from None
    except TransitionRefused as refusal:
        raise _problem(409, "Step not allowed", "transition-not-allowed", refusal) from None
    except InvalidStep as refusal:
        raise _problem(422, "Invalid request", "validation", refusal) from None


async def write_once(
    transactions: Transactions,
    actor: Actor,
    scope: str,
    body: BaseModel,
    key: str | None,
    create: Callable[[UnitOfWork], Awaitable[tuple[int, Any]]],
) -> Any:
    """A change to a case that honours ``Idempotency-Key`` (scoped ``cases:<scope>``),
    with what the rules refuse answered as problem details."""
    with refusals_as_problems():
        return await create_once(
            transactions,
            key=key,
            principal=actor.principal,
            scope=f"cases:{scope}",
            payload=body.model_dump(mode="json"),
            create=create,
        )


def _problem(status: int, title: str, kind: str, refusal: Refusal) -> Problem:
    errors = [FieldError(p.field, p.message, p.code) for p in refusal.problems]
    return Problem(status, title, refusal.message, kind, errors)
