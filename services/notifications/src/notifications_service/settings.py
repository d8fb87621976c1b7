"""Settings of the notifications service (environment variables)."""

from __future__ import annotations

import base64
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator

from servicekit.service_auth import ServiceClientSettings
from servicekit.settings import ServiceSettings

# Development only; production refuses to start without its own key.
DEVELOPMENT_LETTER_KEY = "ZGV2ZWxvcG1lbnQtb25seS1sZXR0ZXIta2V5LTAwMDA="  # 32 bytes


class NotificationsSettings(ServiceSettings, ServiceClientSettings):
    service_name: str = "notifications"
    http_port: int = 8003

    # Who is who: account id -> e-mail, phone, teams, roles; team mailboxes.
    staff_directory_file: Path | None = Field(
        None, description="YAML staff directory; the packaged synthetic one when unset."
    )
    app_base_url: str = Field(
        "https://buurtsignaal.schiedam.example",
        description="Where the staff application lives: links in e-mails and webhooks.",
    )

    # E-mail. Without SMTP_HOST the e-mail channel is off (development, tests that
    # do not need it); production needs it.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(False, description="Upgrade the connection with STARTTLS.")
    smtp_timeout: float = Field(10.0, gt=0)
    mail_from: str = "Buurtsignaal Schiedam <noreply@buurtsignaal.schiedam.example>"

    # Delivery worker and retries. A schedule is the delay before each retry:
    # after the first attempt fails, wait schedule[0]; after the second, schedule[1]...
    # The default webhook schedule tries 7 times over about 23 hours (as Open
    # Notificaties does, "about a day"); tests set milliseconds.
    delivery_poll_interval: float = Field(1.0, gt=0)
    delivery_concurrency: int = Field(10, ge=1, le=200)
    delivery_lease_seconds: float = Field(
        60.0, gt=0, description="A claimed delivery is free again after this (a crashed worker)."
    )
    email_retry_schedule: list[float] = Field(default=[60, 300, 1800, 7200, 21600])
    webhook_retry_schedule: list[float] = Field(default=[60, 240, 960, 3840, 15360, 61440])
    webhook_timeout: float = Field(10.0, gt=0)

    # The mayor's letter.
    signals_url: str = Field("http://127.0.0.1:8001", description="The signals service.")
    letter_encryption_key: SecretStr | None = Field(
        None, description="32 bytes, base64: encrypts stored letters (personal data)."
    )
    letter_retention_days: int = Field(
        28, ge=1, description="An undelivered letter's PDF is destroyed after this many days."
    )
    letter_render_retry_schedule: list[float] = Field(default=[10, 30, 120, 600, 1800, 3600])
    letter_purge_interval: float = Field(3600.0, gt=0)
    letter_font_file: Path | None = Field(
        None, description="TrueType font for letters (all of Unicode); core Helvetica if unset."
    )
    letter_font_bold_file: Path | None = None

    # The live stream (Server-Sent Events).
    live_ping_seconds: float = Field(15.0, gt=0)
    live_queue_size: int = Field(100, ge=1)

    @field_validator(
        "email_retry_schedule", "webhook_retry_schedule", "letter_render_retry_schedule"
    )
    @classmethod
    def _non_negative(cls, schedule: list[float]) -> list[float]:
        if any(delay < 0 for delay in schedule):
            raise ValueError("delays are seconds, never negative")
        return schedule

    @model_validator(mode="after")
    def _production_needs_its_own(self) -> NotificationsSettings:
        if self.environment == "production":
            missing = [
                name.upper()
                for name in ("smtp_host", "letter_encryption_key")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(f"production needs {', '.join(missing)}")
            if self.letter_encryption_key.get_secret_value() == DEVELOPMENT_LETTER_KEY:  # type: ignore[union-attr]
                raise ValueError("the development LETTER_ENCRYPTION_KEY is refused in production")
            self._production_transport_to_others()
        elif self.letter_encryption_key is None:
            self.letter_encryption_key = SecretStr(DEVELOPMENT_LETTER_KEY)
        key = base64.b64decode(self.letter_encryption_key.get_secret_value())
        if len(key) != 32:
            raise ValueError("LETTER_ENCRYPTION_KEY must be 32 bytes, base64-encoded")
        if self.smtp_username and self.smtp_password is None:
            raise ValueError("SMTP_USERNAME needs SMTP_PASSWORD")
        return self

    def _production_transport_to_others(self) -> None:
        """Names and addresses come from signals, mail credentials go to the mail server:
        both over TLS, unless the network itself is protected."""
        if self.allow_plaintext_transport:
            return
        if not self.signals_url.startswith("https://"):
            raise ValueError(
                "SIGNALS_URL must be https:// in production (or ALLOW_PLAINTEXT_TRANSPORT=true)"
            )
        if not self.smtp_starttls:
            raise ValueError(
                "SMTP_STARTTLS must be true in production (or ALLOW_PLAINTEXT_TRANSPORT=true)"
            )
