"""A service's own bearer token, for calling another buurtsignaal service.

A service that must ask another one for something (the notifications service
asks signals for the names and address on the mayor's letter) authenticates as
itself, with role ``service``, and names the user it acts for in the header
``X-On-Behalf-Of``; the called service audit-logs both.

- development: the token is minted locally with the shared development secret
  (``AUTH_JWT_SECRET``), short-lived, ``sub`` = ``svc-<service>``;
- production: the token comes from the OIDC issuer with the OAuth2
  client-credentials grant (RFC 6749 section 4.4) at ``SERVICE_TOKEN_URL``, with
  ``SERVICE_CLIENT_ID`` and ``SERVICE_CLIENT_SECRET`` (no defaults: a production
  service without them refuses to start).

Either way a token is cached until shortly before it expires; a caller that
gets 401 calls :meth:`ServiceTokens.invalidate` and asks again once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

import httpx
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.auth import Role, mint_token
from servicekit.settings import ServiceSettings

ON_BEHALF_OF = "X-On-Behalf-Of"

# A cached token is renewed when less than this share of its life is left.
RENEW_WHEN_LEFT = 0.2


class ServiceClientSettings(BaseSettings):
    """Settings of a service that calls other services (mix into its settings class)."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    service_token_url: str | None = Field(
        None, description="OAuth2 token endpoint for the client-credentials grant (production)."
    )
    service_client_id: str | None = None
    service_client_secret: SecretStr | None = None
    service_token_scope: str | None = Field(None, description="Space-separated scopes to ask.")
    service_token_ttl: int = Field(
        300, ge=30, le=3600, description="Lifetime of a locally minted token (development)."
    )

    @model_validator(mode="after")
    def _production_needs_client_credentials(self) -> ServiceClientSettings:
        if getattr(self, "environment", "development") != "production":
            return self
        missing = [
            name.upper()
            for name in ("service_token_url", "service_client_id", "service_client_secret")
            if getattr(self, name) is None
        ]
        if missing:
            raise ValueError(f"production needs {', '.join(missing)}")
        plaintext_allowed = getattr(self, "allow_plaintext_transport", False)
        if not plaintext_allowed and not str(self.service_token_url).startswith("https://"):
            raise ValueError("SERVICE_TOKEN_URL must be https:// in production")
        return self


class ServiceTokens(Protocol):
    async def token(self) -> str:
        """A valid bearer token of this service."""
        ...

    def invalidate(self) -> None:
        """Forget the cached token (the called service refused it)."""
        ...

    async def aclose(self) -> None: ...


class LocallyMintedTokens:
    """Development: tokens signed with the shared development secret."""

    def __init__(
        self,
        *,
        secret: str,
        sub: str,
        issuer: str,
        audience: str,
        ttl_seconds: int = 300,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._sub = sub
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl_seconds
        self._now = now
        self._cached: tuple[str, float] | None = None

    async def token(self) -> str:
        if self._cached is None or _needs_renewal(self._cached[1], self._ttl, self._now()):
            token = mint_token(
                secret=self._secret,
                sub=self._sub,
                roles=[Role.SERVICE.value],
                name=f"buurtsignaal {self._sub}",
                issuer=self._issuer,
                audience=self._audience,
                ttl_seconds=self._ttl,
            )
            self._cached = (token, self._now() + self._ttl)
        return self._cached[0]

    def invalidate(self) -> None:
        self._cached = None

    async def aclose(self) -> None:
        return None


class TokenEndpointError(Exception):
    """The issuer did not hand out a token (wrong credentials, issuer down)."""


class ClientCredentialsTokens:
    """Production: tokens from the issuer's token endpoint (client_secret_basic)."""

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._token_url = token_url
        self._auth = (client_id, client_secret)
        self._scope = scope
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)
        self._now = now
        self._cached: tuple[str, float, float] | None = None  # token, expires at, lifetime
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:  # one request to the issuer, however many callers wait
            if self._cached is None or _needs_renewal(*self._cached[1:], self._now()):
                self._cached = await self._fetch()
            return self._cached[0]

    async def _fetch(self) -> tuple[str, float, float]:
        form = {"grant_type": "client_credentials"}
        if self._scope:
            form["scope"] = self._scope
        try:
            response = await self._http.post(self._token_url, data=form, auth=self._auth)
        except httpx.HTTPError as error:
            raise TokenEndpointError(
                f"token endpoint unreachable: {type(error).__name__}"
            ) from error
        if response.status_code != 200:
            raise TokenEndpointError(f"token endpoint answered {response.status_code}")
        body = response.json()
        if body.get("token_type", "bearer").lower() != "bearer" or "access_token" not in body:
            raise TokenEndpointError("token endpoint answered without a bearer access_token")
        lifetime = float(body.get("expires_in", 300))
        return str(body["access_token"]), self._now() + lifetime, lifetime

    def invalidate(self) -> None:
        self._cached = None

    async def aclose(self) -> None:
        await self._http.aclose()


def _needs_renewal(expires_at: float, lifetime: float, now: float) -> bool:
    return expires_at - now < lifetime * RENEW_WHEN_LEFT


def service_tokens(settings: ServiceSettings, client: ServiceClientSettings) -> ServiceTokens:
    """The token source a service's settings call for.

    ``settings`` and ``client`` are usually the same object (a settings class
    that mixes in :class:`ServiceClientSettings`).
    """
    if client.service_token_url:
        if not client.service_client_id or client.service_client_secret is None:
            raise ValueError("SERVICE_TOKEN_URL needs SERVICE_CLIENT_ID and SERVICE_CLIENT_SECRET")
        return ClientCredentialsTokens(
            token_url=client.service_token_url,
            client_id=client.service_client_id,
            client_secret=client.service_client_secret.get_secret_value(),
            scope=client.service_token_scope,
        )
    if settings.environment == "production" or settings.auth_jwt_secret is None:
        raise ValueError("production services get their token from SERVICE_TOKEN_URL")
    return LocallyMintedTokens(
        secret=settings.auth_jwt_secret.get_secret_value(),
        sub=f"svc-{settings.service_name}",
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        ttl_seconds=client.service_token_ttl,
    )
