"""Settings of the reporting service (environment variables)."""

from __future__ import annotations

from servicekit.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    service_name: str = "reporting"
    http_port: int = 8004
    report_timezone: str = "Europe/Amsterdam"
