"""Bearer JWT authentication: who is calling, with which roles, for which teams.

Development signs tokens with a locally configured secret (HS256) and
``buurtsignaal token`` mints them; production verifies RS256/ES256 tokens
against the OIDC issuer's JWKS. Issuer, audience and expiry are always checked.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import jwt


class Role(StrEnum):
    REPORTER = "reporter"
    WORKER = "worker"
    AREA_MANAGER = "area-manager"
    MATCH_COORDINATOR = "match-coordinator"
    ANALYST = "analyst"
    ADMIN = "admin"
    # The privacy officer (functionaris gegevensbescherming) answers a person's
    # request to see who processed their data (AVG art. 15).
    PRIVACY_OFFICER = "privacy-officer"
    # A machine client: another buurtsignaal service calling on behalf of a user
    # (who it acts for travels in X-On-Behalf-Of and is audit-logged).
    SERVICE = "service"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    sub: str
    name: str
    roles: frozenset[Role]
    teams: frozenset[str] = field(default_factory=frozenset)
    org: str | None = None

    def has_any(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


class AuthenticationError(Exception):
    """The token is missing, malformed, expired or not ours."""


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        secret: str | None = None,
        jwks_url: str | None = None,
    ) -> None:
        if not secret and not jwks_url:
            raise ValueError("a JWT secret or a JWKS URL is needed")
        self._issuer = issuer
        self._audience = audience
        self._secret = secret
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None

    def verify(self, token: str) -> Principal:
        try:
            if self._jwks is not None:
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
                algorithms = ["RS256", "ES256"]
            else:
                key, algorithms = self._secret, ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise AuthenticationError(str(error)) from error
        return principal_from_claims(claims)


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        roles = frozenset(Role(r) for r in claims.get("roles", []))
    except ValueError as error:
        raise AuthenticationError(f"unknown role: {error}") from error
    return Principal(
        sub=str(claims["sub"]),
        name=str(claims.get("name", "")),
        roles=roles,
        teams=frozenset(str(t) for t in claims.get("teams", [])),
        org=claims.get("org"),
    )


def mint_token(
    *,
    secret: str,
    sub: str,
    roles: list[str],
    teams: list[str] | None = None,
    org: str | None = None,
    name: str = "",
    issuer: str,
    audience: str,
    ttl_seconds: int = 8 * 3600,
) -> str:
    """A development token signed with the shared secret."""
    now = int(time.time())
    claims = {
        "sub": sub,
        "name": name,
        "roles": roles,
        "teams": teams or [],
        "org": org,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, secret, algorithm="HS256")
