"""Settings shared by every service, read from the environment (pydantic-settings).

A service subclasses :class:`ServiceSettings` for its own keys. In production
mode nothing secret has a default: a missing key stops the service at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    graceful_timeout: float = Field(15.0, gt=0, description="Seconds to finish in-flight work.")
    outbox_poll_interval: float = Field(1.0, gt=0)
    dead_letter_probe_interval: float = Field(15.0, gt=0)

    area_config_file: Path | None = None

    @model_validator(mode="after")
    def _defaults_and_production_rules(self) -> ServiceSettings:
        if not self.mongodb_database:
            self.mongodb_database = f"buurtsignaal_{self.service_name}"
        if self.environment == "production":
            if self.auth_jwks_url is None and self.auth_jwt_secret is None:
                raise ValueError("production needs AUTH_JWKS_URL (or AUTH_JWT_SECRET)")
            if self.auth_jwt_secret and (
                self.auth_jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET
            ):
                raise ValueError("the development JWT secret is refused in production")
        elif self.auth_jwt_secret is None and self.auth_jwks_url is None:
            self.auth_jwt_secret = SecretStr(DEVELOPMENT_JWT_SECRET)
        return self
