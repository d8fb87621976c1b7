"""Settings of the signals service (environment variables)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from servicekit.settings import ServiceSettings

# Development-only keys; production refuses to start without its own.
DEVELOPMENT_PSEUDONYM_KEY = "development-only-pseudonym-key-not-for-production"
DEVELOPMENT_ENCRYPTION_KEY = "ZGV2ZWxvcG1lbnQtb25seS1lbmNyeXB0aW9uLWtleSE="  # 32 bytes


class SignalsSettings(ServiceSettings):
    service_name: str = "signals"
    http_port: int = 8001

    pseudonym_key: SecretStr | None = Field(None, description="HMAC secret, 32+ characters")
    encryption_key: SecretStr | None = Field(None, description="32 bytes, base64")
    age_limit: int = Field(
        23, description="Signals are for people under this age; they expire then."
    )
    retention_years: int = Field(2, description="A signal expires this long after registration.")

    @model_validator(mode="after")
    def _keys(self) -> SignalsSettings:
        if self.environment == "production":
            missing = [n for n in ("pseudonym_key", "encryption_key") if getattr(self, n) is None]
            if missing:
                raise ValueError(f"production needs {', '.join(k.upper() for k in missing)}")
        else:
            self.pseudonym_key = self.pseudonym_key or SecretStr(DEVELOPMENT_PSEUDONYM_KEY)
            self.encryption_key = self.encryption_key or SecretStr(DEVELOPMENT_ENCRYPTION_KEY)
        return self
