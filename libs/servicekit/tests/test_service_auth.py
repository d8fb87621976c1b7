"""A service's own token: minted locally in development, client credentials in production."""

from __future__ import annotations

import asyncio
import base64
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import ValidationError

from servicekit.auth import Role, TokenVerifier
from servicekit.service_auth import (
    ClientCredentialsTokens,
    LocallyMintedTokens,
    ServiceClientSettings,
    TokenEndpointError,
    service_tokens,
)
from servicekit.settings import DEVELOPMENT_JWT_SECRET, ServiceSettings
from servicekit.testing import PRODUCTION_CONNECTIONS

ISSUER, AUDIENCE = "urn:buurtsignaal:dev-issuer", "buurtsignaal"


class CallerSettings(ServiceSettings, ServiceClientSettings):
    service_name: str = "caller"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_development_token_is_a_short_lived_service_token_of_this_service():
    clock = Clock()
    tokens = LocallyMintedTokens(
        secret=DEVELOPMENT_JWT_SECRET,
        sub="svc-caller",
        issuer=ISSUER,
        audience=AUDIENCE,
        ttl_seconds=300,
        now=clock,
    )
    token = await tokens.token()
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, secret=DEVELOPMENT_JWT_SECRET)
    principal = await verifier.verify(token)
    assert principal.sub == "svc-caller" and principal.roles == {Role.SERVICE}
    assert principal.teams == frozenset()
    assert await tokens.token() == token, "cached while fresh"
    clock.now += 250  # less than a fifth of its life left
    assert await tokens.token() != token
    renewed = await tokens.token()
    tokens.invalidate()
    assert await tokens.token() != renewed


def token_endpoint(calls: list[httpx.Request], status: int = 200, expires_in: int = 600):
    async def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        await asyncio.sleep(0.01)
        if status != 200:
            return httpx.Response(status, json={"error": "invalid_client"})
        return httpx.Response(
            200,
            json={
                "access_token": f"token-{len(calls)}",
                "token_type": "Bearer",
                "expires_in": expires_in,
            },
        )

    return httpx.MockTransport(handle)


async def test_client_credentials_are_asked_once_and_reused_until_nearly_expired():
    calls: list[httpx.Request] = []
    clock = Clock()
    tokens = ClientCredentialsTokens(
        token_url="https://idp.example/token",
        client_id="notifications",
        client_secret="s3cret",
        scope="buurtsignaal.letter-details",
        transport=token_endpoint(calls),
        now=clock,
    )
    first = await asyncio.gather(*(tokens.token() for _ in range(5)))
    assert first == ["token-1"] * 5 and len(calls) == 1, "one request for many callers"
    request = calls[0]
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["client_credentials"],
        "scope": ["buurtsignaal.letter-details"],
    }
    expected = base64.b64encode(b"notifications:s3cret").decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    clock.now += 400
    assert await tokens.token() == "token-1"
    clock.now += 100  # 100 of 600 seconds left
    assert await tokens.token() == "token-2"
    tokens.invalidate()
    assert await tokens.token() == "token-3"
    await tokens.aclose()


async def test_a_refusing_issuer_is_an_error_the_caller_can_retry_on():
    tokens = ClientCredentialsTokens(
        token_url="https://idp.example/token",
        client_id="notifications",
        client_secret="wrong",
        transport=token_endpoint([], status=401),
    )
    with pytest.raises(TokenEndpointError, match="401"):
        await tokens.token()
    await tokens.aclose()


def test_the_settings_choose_the_token_source_and_production_needs_client_credentials():
    assert isinstance(service_tokens(*[CallerSettings()] * 2), LocallyMintedTokens)
    with_issuer = CallerSettings(
        service_token_url="https://idp.example/token",
        service_client_id="caller",
        service_client_secret="s3cret",
    )
    assert isinstance(service_tokens(with_issuer, with_issuer), ClientCredentialsTokens)
    with pytest.raises(ValidationError, match="SERVICE_TOKEN_URL"):
        CallerSettings(**PRODUCTION_CONNECTIONS)
    with pytest.raises(ValidationError, match="SERVICE_TOKEN_URL must be https"):
        CallerSettings(
            **PRODUCTION_CONNECTIONS,
            service_token_url="http://idp.example/token",
            service_client_id="caller",
            service_client_secret="s3cret",
        )
    production = CallerSettings(
        **PRODUCTION_CONNECTIONS,
        service_token_url="https://idp.example/token",
        service_client_id="caller",
        service_client_secret="s3cret",
    )
    assert isinstance(service_tokens(production, production), ClientCredentialsTokens)
