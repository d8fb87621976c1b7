import time

import jwt
import pytest
from pydantic import ValidationError

from servicekit.auth import AuthenticationError, Role, TokenVerifier, mint_token
from servicekit.settings import DEVELOPMENT_JWT_SECRET, ServiceSettings

ISSUER, AUDIENCE = "urn:test-issuer", "buurtsignaal"


def verifier(secret: str = "s" * 40) -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, audience=AUDIENCE, secret=secret)


def token(**overrides):
    claims = dict(
        secret="s" * 40,
        sub="w-17",
        roles=["worker"],
        teams=["wot-west"],
        org="bs",
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    claims.update(overrides)
    return mint_token(**claims)


def test_development_gets_the_development_secret_and_production_refuses_to_start():
    assert (
        ServiceSettings(service_name="x").auth_jwt_secret.get_secret_value()
        == DEVELOPMENT_JWT_SECRET
    )
    with pytest.raises(ValidationError, match="production needs"):
        ServiceSettings(service_name="x", environment="production")
    with pytest.raises(ValidationError, match="development JWT secret is refused"):
        ServiceSettings(
            service_name="x", environment="production", auth_jwt_secret=DEVELOPMENT_JWT_SECRET
        )


def test_database_name_defaults_to_the_service():
    assert ServiceSettings(service_name="cases").mongodb_database == "buurtsignaal_cases"


async def test_a_valid_token_gives_the_principal():
    principal = await verifier().verify(token())
    assert principal.sub == "w-17"
    assert principal.roles == {Role.WORKER}
    assert principal.teams == {"wot-west"}
    assert principal.org == "bs"


@pytest.mark.parametrize(
    "bad",
    [
        token(secret="x" * 40),
        token(issuer="urn:someone-else"),
        token(audience="another-api"),
        token(ttl_seconds=-10),
        token(roles=["emperor"]),
        "not-a-jwt",
        jwt.encode(
            {"sub": "w", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 60},
            key=None,
            algorithm="none",
        ),
    ],
    ids=[
        "wrong-signature",
        "wrong-issuer",
        "wrong-audience",
        "expired",
        "unknown-role",
        "garbage",
        "unsigned",
    ],
)
async def test_bad_tokens_are_refused(bad):
    with pytest.raises(AuthenticationError):
        await verifier().verify(bad)
