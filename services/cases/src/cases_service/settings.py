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
    deadlines_file: Path | None = Field(
        None,
        description="YAML: working days per deadline and programme, the area manager's "
        "multiple, the time zone; the packaged file by default",
    )
    screening_instruments_dir: Path | None = Field(
        None, description="directory of screening questionnaire files; the packaged ones by default"
    )
    deadline_check_interval: float = Field(
        300.0, gt=0, description="seconds between runs of the deadline scheduler"
    )
