"""FastAPI dependencies for the bearer token and role checks."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from servicekit.auth import AuthenticationError, Principal, Role
from servicekit.http.problems import forbidden

_bearer = HTTPBearer(auto_error=False, description="JWT issued by the municipality's OIDC issuer")


async def authenticated(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError("no bearer token")
    principal = request.app.state.runtime.verifier.verify(credentials.credentials)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticated)]


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that admits only callers with one of ``roles``."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(*roles):
            allowed = ", ".join(sorted(r.value for r in roles))
            raise forbidden(f"this needs one of the roles: {allowed}")
        return principal

    return check
