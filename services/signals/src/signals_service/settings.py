"""Settings of the signals service (environment variables)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from servicekit.settings import ServiceSettings

# Development-only keys; production refuses to start without its own.
DEVELOPMENT_PSEUDONYM_KEY = "development-only-pseudonym-key-not-for-production"
DEVELOPMENT_ENCRYPTION_KEY = "ZGV2ZWxvcG1lbnQtb25seS1lbmNyeXB0aW9uLWtleSE="  # 32 bytes

KEY_VERSION = r"^[a-z][a-z0-9]{0,7}$"


class SignalsSettings(ServiceSettings):
    service_name: str = "signals"
    http_port: int = 8001

    pseudonym_key: SecretStr | None = Field(None, description="HMAC secret, 32+ characters")
    pseudonym_key_version: str = Field(
        "k1", pattern=KEY_VERSION, description="Prefix of the lookup hashes made with it"
    )
    previous_pseudonym_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Retired HMAC secrets by version (JSON), still read until re-hashed",
    )
    encryption_key: SecretStr | None = Field(None, description="32 bytes, base64")
    encryption_key_version: str = Field("e1", pattern=KEY_VERSION)
    previous_encryption_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Retired master keys by version (JSON), still read until re-wrapped",
    )

    age_limit: int = Field(
        23, ge=1, description="Signals are for people under this age; they expire then."
    )
    retention_years: int = Field(
        2, ge=1, description="A signal expires this long after registration."
    )
    archive_years: int = Field(
        5, ge=1, description="An expired signal's minimal record is kept this long."
    )
    retention_interval_seconds: float = Field(
        3600, gt=0, description="How often the retention job looks for due signals."
    )
    household_matching: bool = Field(
        False, description="Also match signals about different people at the same address."
    )
    batch_max_items: int = Field(500, ge=1, le=5000, description="Signals per batch request.")

    @model_validator(mode="after")
    def _keys(self) -> SignalsSettings:
        if self.environment == "production":
            missing = [n for n in ("pseudonym_key", "encryption_key") if getattr(self, n) is None]
            if missing:
                raise ValueError(f"production needs {', '.join(k.upper() for k in missing)}")
            development = {DEVELOPMENT_PSEUDONYM_KEY, DEVELOPMENT_ENCRYPTION_KEY}
            if {
                self.pseudonym_key.get_secret_value(),  # type: ignore[union-attr]
                self.encryption_key.get_secret_value(),  # type: ignore[union-attr]
            } & development:
                raise ValueError("the development keys are refused in production")
        else:
            self.pseudonym_key = self.pseudonym_key or SecretStr(DEVELOPMENT_PSEUDONYM_KEY)
            self.encryption_key = self.encryption_key or SecretStr(DEVELOPMENT_ENCRYPTION_KEY)
        for name, current, previous in (
            ("PREVIOUS_PSEUDONYM_KEYS", self.pseudonym_key_version, self.previous_pseudonym_keys),
            (
                "PREVIOUS_ENCRYPTION_KEYS",
                self.encryption_key_version,
                self.previous_encryption_keys,
            ),
        ):
            if current in previous:
                raise ValueError(f"{name} names the current version {current}")
        return self
