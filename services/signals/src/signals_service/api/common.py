"""What the API modules share: dependencies, the reporter from the token, problems."""

from __future__ import annotations

from typing import Annotated

from pydantic import TypeAdapter, ValidationError

from buurtsignaal_contracts.codes import Code, UserRef
from servicekit.app import provide
from servicekit.auth import Principal
from servicekit.http.problems import FieldError, Problem, forbidden
from servicekit.mongo import Transactions
from signals_service.intake import IntakeRejected, Reporter

Tx = Annotated[Transactions, provide(Transactions)]

_CODE: TypeAdapter[str] = TypeAdapter(Code)
_USER_REF: TypeAdapter[str] = TypeAdapter(UserRef)


def reporter_of(principal: Principal) -> Reporter:
    """The organisation and account a signal is registered for, as events can carry them."""
    if not principal.org:
        raise forbidden("the token names no organisation; signals are reported for one")
    try:
        _CODE.validate_python(principal.org)
        _USER_REF.validate_python(principal.sub)
    except ValidationError:
        raise forbidden("the token's org or sub is not a code this system can use") from None
    return Reporter(account=principal.sub, organisation=principal.org)


def rejected_problem(rejected: IntakeRejected) -> Problem:
    return Problem(
        422,
        "Invalid signal",
        str(rejected),
        "validation",
        [FieldError(v.field, v.message, v.code) for v in rejected.violations],
    )
