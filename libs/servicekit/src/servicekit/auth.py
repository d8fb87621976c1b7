"""Bearer JWT authentication: who is calling, with which roles, for which teams.

Development signs tokens with a locally configured secret (HS256) and
``buurtsignaal token`` mints them; production verifies RS256/ES256 tokens
against the OIDC issuer's JWKS. Issuer, audience and expiry are always checked.

The JWKS is fetched with httpx's async client (never blocking the event loop),
cached, and fetched again when a token names a key id the cache does not know
(the issuer rotated its keys), at most once per ``refresh_interval`` so tokens
with made-up key ids cannot make the service hammer the issuer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx
import jwt

log = logging.getLogger(__name__)

# What a JWKS-verified token may be signed with: asymmetric only, so a token
# "signed" with the issuer's public key as an HMAC secret is refused.
JWKS_ALGORITHMS = ("RS256", "ES256")


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


class KeysUnavailable(Exception):
    """The issuer's JWKS cannot be fetched and no cached key fits (answered 503)."""


class JwksKeys:
    """The issuer's signing keys by key id, fetched asynchronously and cached."""

    def __init__(
        self,
        url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: Any = True,
        timeout: float = 5.0,
        max_age: float = 3600.0,
        refresh_interval: float = 30.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport, verify=verify)
        self._max_age = max_age
        self._refresh_interval = refresh_interval
        self._now = now
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key_for(self, kid: str | None) -> jwt.PyJWK:
        if kid is None:
            raise AuthenticationError("the token names no key id")
        if kid in self._keys and not self._stale():
            return self._keys[kid]
        async with self._lock:  # one fetch, however many requests wait for it
            if (kid not in self._keys or self._stale()) and self._may_fetch():
                await self._fetch()
        if kid not in self._keys:
            raise AuthenticationError("the token's key id is not one of the issuer's keys")
        return self._keys[kid]

    def _stale(self) -> bool:
        return self._fetched_at is None or self._now() - self._fetched_at > self._max_age

    def _may_fetch(self) -> bool:
        return self._fetched_at is None or self._now() - self._fetched_at >= min(
            self._refresh_interval, self._max_age
        )

    async def _fetch(self) -> None:
        self.fetches += 1
        try:
            response = await self._http.get(self._url)
            response.raise_for_status()
            keys = jwt.PyJWKSet.from_json(response.text).keys
        except (httpx.HTTPError, json.JSONDecodeError, jwt.PyJWKSetError) as error:
            log.warning("JWKS fetch failed", extra={"error": type(error).__name__})
            if not self._keys:
                raise KeysUnavailable("the issuer's keys cannot be fetched") from error
            return  # keep verifying with the keys we have
        self._keys = {
            k.key_id: k
            for k in keys
            if k.key_id
            and k.public_key_use in (None, "sig")
            and k.algorithm_name in JWKS_ALGORITHMS
        }
        self._fetched_at = self._now()

    async def aclose(self) -> None:
        await self._http.aclose()


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        secret: str | None = None,
        jwks_url: str | None = None,
        jwks: JwksKeys | None = None,
    ) -> None:
        if not secret and not jwks_url and jwks is None:
            raise ValueError("a JWT secret or a JWKS URL is needed")
        self._issuer = issuer
        self._audience = audience
        self._secret = secret
        self._jwks = jwks or (JwksKeys(jwks_url) if jwks_url else None)

    async def verify(self, token: str) -> Principal:
        try:
            key, algorithms = await self._key(token)
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

    async def _key(self, token: str) -> tuple[Any, list[str]]:
        if self._jwks is None:
            return self._secret, ["HS256"]
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in JWKS_ALGORITHMS:
            raise AuthenticationError(f"algorithm {header.get('alg')!r} is not accepted")
        jwk = await self._jwks.key_for(header.get("kid"))
        # The key decides the algorithm (an RSA key verifies RS256 only).
        return jwk.key, [jwk.algorithm_name]

    async def aclose(self) -> None:
        if self._jwks is not None:
            await self._jwks.aclose()


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
