"""Settings of the cases service (environment variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from servicekit.settings import ServiceSettings


class CasesSettings(ServiceSettings):
    service_name: str = "cases"
    http_port: int = 8002
    programme_rules_file: Path | None = Field(
        None, description="YAML rules that choose a programme; the packaged ones by default"
    )
