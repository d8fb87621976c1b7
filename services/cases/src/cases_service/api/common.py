"""What every route of the cases API shares: who is asking, and refusals as problems.

Scoping: another team's case answers 404, exactly like a case that does not
exist, for reads and for changes alike (so the API never confirms that a case
exists to someone who may not see it). A role that may not do something at all
(an analyst reading cases, a worker assigning) answers 403.

Optimistic concurrency: every request that decides something about a case
sends the ``version`` of the case it saw (a field of the JSON body). When the
case has changed since, the answer is 409 ``version-conflict`` and nothing
changes. Recording a contact needs no version: it does not contradict anyone.
"""

# No "from __future__ import annotations": FastAPI reads the annotations of the
# nested dependency below at run time, and they name a local variable.
import contextlib
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends

from cases_service.domain.refusals import InvalidStep, Refusal, TransitionRefused, VersionConflict
from cases_service.service import Actor, CaseNotFound, CaseService, LetterNotFound, NotYourTeam
from servicekit.app import provide
from servicekit.auth import Principal, Role
from servicekit.http.problems import FieldError, Problem, forbidden, not_found
from servicekit.http.security import require_roles
from servicekit.mongo import Transactions

Tx = Annotated[Transactions, provide(Transactions)]
Cases = Annotated[CaseService, provide(CaseService)]


def _actor(*roles: Role):  # type: ignore[no-untyped-def]
    check = require_roles(*roles)

    async def actor(
        principal: Annotated[Principal, Depends(check)],
        cases: Cases,
    ) -> Actor:
        return Actor.of(principal, cases.areas)

    return actor


Reader = Annotated[Actor, Depends(_actor(Role.WORKER, Role.AREA_MANAGER, Role.ADMIN))]
"""Workers and area managers (their teams) and admins (every team) read cases."""

CaseWorker = Annotated[Actor, Depends(_actor(Role.WORKER, Role.AREA_MANAGER))]
"""Workers and area managers of the case's team change it."""

AreaManager = Annotated[Actor, Depends(_actor(Role.AREA_MANAGER))]
"""Only area managers assign workers."""


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


def _problem(status: int, title: str, kind: str, refusal: Refusal) -> Problem:
    errors = [FieldError(p.field, p.message, p.code) for p in refusal.problems]
    return Problem(status, title, refusal.message, kind, errors)
