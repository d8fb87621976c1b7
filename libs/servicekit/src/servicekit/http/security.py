"""FastAPI dependencies for the bearer token.

Which roles may call a route is not decided here but in the service's
authorisation matrix (:mod:`servicekit.authz`), which puts its check in front
of every API route.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from servicekit.auth import AuthenticationError, Principal

bearer = HTTPBearer(auto_error=False, description="JWT issued by the municipality's OIDC issuer")

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def authenticated(request: Request, credentials: Credentials) -> Principal:
    """The verified caller; 401 (``AuthenticationError``) without a valid token."""
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:  # verified once per request
        return known
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError("no bearer token")
    principal = await request.app.state.runtime.verifier.verify(credentials.credentials)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticated)]
