"""Settings of the reporting service (environment variables)."""

from __future__ import annotations

from pydantic import Field

from servicekit.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    service_name: str = "reporting"
    http_port: int = 8004
    report_timezone: str = Field(
        "Europe/Amsterdam", description="The time zone whose days the reports count in."
    )
    public_threshold: int = Field(
        5,
        ge=2,
        description="Public reports show counts below this as '<N' (and withhold the cells "
        "from which one could be recomputed).",
    )
    metrics_refresh_interval: float = Field(
        30.0, gt=0, description="Seconds between recomputing the business metrics from the facts."
    )
