"""Settings shared by every service, read from the environment (pydantic-settings).

A service subclasses :class:`ServiceSettings` for its own keys. In production
mode nothing secret has a default: a missing key stops the service at start-up,
with an error that names the setting. Production also verifies tokens against
the issuer's JWKS only (no shared secret) and talks TLS to RabbitMQ and MongoDB
unless ``ALLOW_PLAINTEXT_TRANSPORT=true`` says the network itself is protected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, FilePath, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.transport import amqp_uses_tls, mongo_tls_options, mongo_uses_tls

# Only ever used when ENVIRONMENT=development; production refuses it.
DEVELOPMENT_JWT_SECRET = "buurtsignaal-development-only-jwt-secret-0000"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    service_name: str
    environment: Literal["development", "production"] = "development"

    amqp_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/")
    mongodb_url: SecretStr = SecretStr("mongodb://127.0.0.1:27017/?directConnection=true")
    mongodb_database: str = ""
    mongodb_timeout_ms: int = Field(
        2000, description="Server selection timeout: how long a call waits for the database."
    )

    # TLS to the broker and the database (servicekit/transport.py).
    amqp_tls_ca_file: FilePath | None = Field(None, description="CA of the broker's certificate")
    amqp_tls_cert_file: FilePath | None = Field(None, description="client certificate (mTLS)")
    amqp_tls_key_file: FilePath | None = Field(None, description="its private key")
    mongodb_tls: bool = Field(False, description="TLS to MongoDB (or tls=true in the URL)")
    mongodb_tls_ca_file: FilePath | None = Field(None, description="CA of the server certificate")
    mongodb_tls_cert_key_file: FilePath | None = Field(
        None, description="client certificate and key in one PEM file (mTLS)"
    )
    allow_plaintext_transport: bool = Field(
        False,
        description="production only: allow amqp:// and MongoDB without TLS (a network that "
        "encrypts by itself, e.g. a service mesh)",
    )

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    log_level: str = "INFO"

    auth_jwt_secret: SecretStr | None = None
    auth_jwks_url: str | None = None
    auth_issuer: str = "urn:buurtsignaal:dev-issuer"
    auth_audience: str = "buurtsignaal"
    auth_jwks_max_age: float = Field(
        3600.0, gt=0, description="Seconds the issuer's keys are cached before a fresh fetch."
    )
    auth_jwks_refresh_interval: float = Field(
        30.0, ge=0, description="At most one fetch per this many seconds for unknown key ids."
    )

    consumer_prefetch: int = Field(50, ge=1, le=1000)
    delivery_limit: int = Field(
        10, ge=1, description="Deliveries before a message is dead-lettered."
    )
    retry_backoff_initial: float = Field(0.2, ge=0)
    retry_backoff_max: float = Field(5.0, ge=0)
    graceful_timeout: float = Field(
        15.0, gt=0, description="Seconds from SIGTERM to exit: finish in-flight work, publish."
    )
    database_outage_patience: float = Field(
        300.0,
        ge=0,
        description=(
            "Seconds a consumer holds a message while the database is unreachable before it "
            "counts as a failed delivery (0: do not hold)."
        ),
    )
    outbox_poll_interval: float = Field(1.0, gt=0)
    dead_letter_probe_interval: float = Field(15.0, gt=0)
    audit_seal_interval: float = Field(
        1.0, gt=0, description="Seconds between rounds of the audit log's hash-chain sealer."
    )

    area_config_file: Path | None = None

    @model_validator(mode="after")
    def _defaults_and_production_rules(self) -> ServiceSettings:
        if not self.mongodb_database:
            self.mongodb_database = f"buurtsignaal_{self.service_name}"
        self._check_tls_files()
        if self.environment == "production":
            problems = [*self._production_secrets(), *self._production_transport()]
            if problems:
                raise ValueError("; ".join(problems))
        elif self.auth_jwt_secret is None and self.auth_jwks_url is None:
            self.auth_jwt_secret = SecretStr(DEVELOPMENT_JWT_SECRET)
        return self

    def _check_tls_files(self) -> None:
        if (self.amqp_tls_cert_file is None) != (self.amqp_tls_key_file is None):
            raise ValueError("AMQP_TLS_CERT_FILE and AMQP_TLS_KEY_FILE go together")
        amqp_files = (self.amqp_tls_ca_file, self.amqp_tls_cert_file)
        if any(amqp_files) and not amqp_uses_tls(self.amqp_url.get_secret_value()):
            raise ValueError("AMQP_TLS_* files need an amqps:// AMQP_URL")

    def _production_secrets(self) -> list[str]:
        """What production must be given: no development keys, no default accounts."""
        problems = []
        if self.auth_jwks_url is None:
            problems.append(
                "production needs AUTH_JWKS_URL (tokens are verified with the issuer's keys)"
            )
        if self.auth_jwt_secret is not None:
            development = self.auth_jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET
            problems.append(
                "the development JWT secret is refused in production"
                if development
                else "AUTH_JWT_SECRET is for development only; production uses AUTH_JWKS_URL"
            )
        for name in ("amqp_url", "mongodb_url"):
            if name not in self.model_fields_set:
                problems.append(f"production needs {name.upper()} (no default in production)")
        if "guest:guest@" in self.amqp_url.get_secret_value():
            problems.append("AMQP_URL: the guest account is refused in production")
        return problems

    def _production_transport(self) -> list[str]:
        if self.allow_plaintext_transport:
            return []
        problems = []
        if not amqp_uses_tls(self.amqp_url.get_secret_value()):
            problems.append(
                "AMQP_URL must be amqps:// in production (or ALLOW_PLAINTEXT_TRANSPORT=true)"
            )
        if not mongo_uses_tls(
            self.mongodb_url.get_secret_value(), "tls" in mongo_tls_options(self)
        ):
            problems.append(
                "MONGODB_URL needs TLS in production: tls=true in the URL or MONGODB_TLS=true "
                "(or ALLOW_PLAINTEXT_TRANSPORT=true)"
            )
        if self.auth_jwks_url and urlsplit(self.auth_jwks_url).scheme != "https":
            problems.append("AUTH_JWKS_URL must be https:// in production")
        return problems
