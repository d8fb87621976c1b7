"""Production mode: every service refuses to start without its keys, and over plaintext.

Settings are read from the environment, as in production. Each missing or
refused setting is named in the error; the process itself exits with code 2
and says why, without a traceback and without echoing any value.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

SHARED = {
    "ENVIRONMENT": "production",
    "AUTH_JWKS_URL": "https://idp.schiedam.example/realms/staff/protocol/openid-connect/certs",
    "AMQP_URL": "amqps://svc-user:not-a-real-password@rabbitmq.internal.example:5671/",
    "MONGODB_URL": "mongodb://svc-user:not-a-real-password@mongo.internal.example/?tls=true",
}
OWN = {
    "signals": {
        "PSEUDONYM_KEY": "test-only-pseudonym-key-0123456789abcdef",
        "ENCRYPTION_KEY": "dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTAxMjM0NTY=",
    },
    "cases": {},
    "notifications": {
        "LETTER_ENCRYPTION_KEY": "dGVzdC1vbmx5LWtleS1mb3ItbGV0dGVyLXN0b3JlLTE=",
        "SMTP_HOST": "smtp.internal.example",
        "SMTP_STARTTLS": "true",
        "SIGNALS_URL": "https://signals.internal.example",
        "SERVICE_TOKEN_URL": "https://idp.schiedam.example/realms/staff/token",
        "SERVICE_CLIENT_ID": "notifications",
        "SERVICE_CLIENT_SECRET": "test-only-client-secret",
    },
    "reporting": {},
}
SETTINGS_CLASSES = {
    "signals": ("signals_service.settings", "SignalsSettings"),
    "cases": ("cases_service.settings", "CasesSettings"),
    "notifications": ("notifications_service.settings", "NotificationsSettings"),
    "reporting": ("reporting_service.settings", "ReportingSettings"),
}
SERVICES = sorted(SETTINGS_CLASSES)


def settings_class(service: str) -> type:
    module, name = SETTINGS_CLASSES[service]
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def environment(service: str, **changes: str | None) -> dict[str, str]:
    env = {**SHARED, **OWN[service]}
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def load(service: str, monkeypatch: pytest.MonkeyPatch, **changes: str | None) -> object:
    for name in list(os.environ):
        if name in SHARED or any(name in own for own in OWN.values()):
            monkeypatch.delenv(name)
    for name, value in environment(service, **changes).items():
        monkeypatch.setenv(name, value)
    return settings_class(service)()


@pytest.mark.parametrize("service", SERVICES)
def test_a_complete_production_configuration_is_accepted(service, monkeypatch):
    settings = load(service, monkeypatch)
    assert settings.environment == "production"  # type: ignore[attr-defined]
    assert settings.auth_jwt_secret is None  # type: ignore[attr-defined]


REQUIRED = [(s, name) for s in SERVICES for name in [*SHARED, *OWN[s]] if name != "ENVIRONMENT"]


@pytest.mark.parametrize("service,name", REQUIRED, ids=[f"{s}-{n}" for s, n in REQUIRED])
def test_each_key_and_connection_is_required_and_named(service, name, monkeypatch):
    if name == "SMTP_STARTTLS":
        changes = {name: "false"}  # a flag: its absence means plaintext
    elif name == "SIGNALS_URL":
        changes = {name: "http://signals.internal.example"}
    else:
        changes = {name: None}
    with pytest.raises(ValidationError, match=name):
        load(service, monkeypatch, **changes)


@pytest.mark.parametrize("service", SERVICES)
def test_shared_secrets_and_development_keys_are_refused(service, monkeypatch):
    with pytest.raises(ValidationError, match="AUTH_JWT_SECRET is for development only"):
        load(service, monkeypatch, AUTH_JWT_SECRET="a-shared-secret-of-someone-0123456789")
    with pytest.raises(ValidationError, match="development JWT secret is refused"):
        load(
            service,
            monkeypatch,
            AUTH_JWT_SECRET="buurtsignaal-development-only-jwt-secret-0000",
        )
    with pytest.raises(ValidationError, match="guest account"):
        load(service, monkeypatch, AMQP_URL="amqps://guest:guest@rabbitmq.internal.example/")


@pytest.mark.parametrize("service", SERVICES)
def test_plaintext_transport_is_refused_unless_explicitly_allowed(service, monkeypatch):
    plain_amqp = "amqp://svc-user:pw@rabbitmq.internal.example:5672/"
    plain_mongo = "mongodb://svc-user:pw@mongo.internal.example/?replicaSet=rs0"
    with pytest.raises(ValidationError, match="AMQP_URL must be amqps://"):
        load(service, monkeypatch, AMQP_URL=plain_amqp)
    with pytest.raises(ValidationError, match="MONGODB_URL needs TLS"):
        load(service, monkeypatch, MONGODB_URL=plain_mongo)
    with pytest.raises(ValidationError, match="AUTH_JWKS_URL must be https://"):
        load(service, monkeypatch, AUTH_JWKS_URL="http://idp.internal.example/certs")
    with_flag = load(service, monkeypatch, MONGODB_URL=plain_mongo, MONGODB_TLS="true")
    assert with_flag.mongodb_tls  # type: ignore[attr-defined]
    allowed = load(
        service,
        monkeypatch,
        AMQP_URL=plain_amqp,
        MONGODB_URL=plain_mongo,
        ALLOW_PLAINTEXT_TRANSPORT="true",
    )
    assert allowed.allow_plaintext_transport  # type: ignore[attr-defined]


# The process itself: the first of the service's own keys missing (or the JWKS URL).
FIRST_MISSING = {s: next(iter(OWN[s]), "AUTH_JWKS_URL") for s in SERVICES}


@pytest.mark.parametrize("service", SERVICES)
def test_the_service_process_refuses_to_start_and_names_the_setting(service):
    missing = FIRST_MISSING[service]
    env = {
        **{k: v for k, v in os.environ.items() if k not in SHARED},
        **environment(service, **{missing: None}),
    }
    done = subprocess.run(
        [sys.executable, "-m", f"{service}_service"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("refusing to start:"), done.stderr
    assert missing in done.stderr
    assert "Traceback" not in done.stderr
    assert "not-a-real-password" not in done.stderr, "no setting's value is echoed"
